/**
 * The one answer of a store write that can lose (a race, a condition in the statement, a row that is
 * gone): `{ [verb]: true }` when this call's write took effect, `{ [verb]: false }` when it did not.
 *
 * - `Reason`: the losses a caller must tell apart (`{ created: false; reason: 'email_taken' }`); without
 *   it a loss carries no reason.
 * - `Won`: what a winning write hands back, so the caller needs no second read (the user a spent token
 *   belongs to, what a recovery-code set has left).
 *
 * A plain `{ verb: boolean }` is assignable to it, so an implementation may answer
 * `{ deleted: changedExactlyOne(result) }`. Writes that always take effect return `void`; bulk deletions
 * return how many rows went (a count, not a "did this win"). test/store/write-outcome.test.ts checks
 * that every such write of `Store` has this shape.
 */
export type WriteOutcome<Verb extends string, Reason extends string = never, Won extends object = NoFields> =
  | Flat<{ [K in Verb]: true } & Won>
  | Flat<{ [K in Verb]: false } & ([Reason] extends [never] ? NoFields : { reason: Reason })>;

type NoFields = Record<never, never>;

/** Shows `{ consumed: true; remaining: number }` rather than an intersection in editors and errors. */
type Flat<T> = { [K in keyof T]: T[K] };
