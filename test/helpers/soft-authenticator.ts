import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/**
 * A software authenticator for service and API tests: a real ES256 key pair, real client data, attestation
 * `none`, real signatures over authenticator data. Its CBOR comes from @simplewebauthn/server's own encoder.
 * The browser tests use Chromium's virtual authenticator instead; this one lets a test roll a counter back
 * or answer from another origin at will.
 */
export class SoftAuthenticator {
  readonly credentialId = randomBytes(16).toString('base64url');
  counter = 0;
  private readonly privateKey: KeyObject;
  private readonly publicJwk: { x: string; y: string };

  constructor(
    readonly options: { origin: string; rpId: string; userVerified?: boolean; backupEligible?: boolean },
  ) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicJwk = pair.publicKey.export({ format: 'jwk' }) as { x: string; y: string };
  }

  private flags(extra: number): number {
    let flags = 0x01 | extra; // user present
    if (this.options.userVerified ?? true) flags |= 0x04;
    if (this.options.backupEligible) flags |= 0x08 | 0x10;
    return flags;
  }

  private authData(flags: number, attested?: Uint8Array): Buffer {
    const rpIdHash = createHash('sha256').update(this.options.rpId).digest();
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.counter);
    return Buffer.concat([rpIdHash, Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
  }

  private clientData(type: string, challenge: string, origin = this.options.origin): string {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false })).toString('base64url');
  }

  /** Answers navigator.credentials.create() options. */
  register(options: { challenge: string }, override: { origin?: string } = {}): RegistrationResponseJSON {
    const cose = new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(this.publicJwk.x, 'base64url')],
      [-3, Buffer.from(this.publicJwk.y, 'base64url')],
    ]);
    const id = Buffer.from(this.credentialId, 'base64url');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(id.length);
    const attested = Buffer.concat([Buffer.alloc(16), length, id, Buffer.from(isoCBOR.encode(cose))]);
    const attestationObject = isoCBOR.encode(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', new Uint8Array(this.authData(this.flags(0x40), attested))],
      ]) as Parameters<typeof isoCBOR.encode>[0],
    );
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON: this.clientData('webauthn.create', options.challenge, override.origin),
        attestationObject: Buffer.from(attestationObject).toString('base64url'),
        transports: ['usb'],
      },
      clientExtensionResults: {},
    };
  }

  /** Answers navigator.credentials.get() options; the counter goes up by one unless `counter` is given. */
  assert(
    options: { challenge: string },
    override: { origin?: string; counter?: number; userHandle?: string } = {},
  ): AuthenticationResponseJSON {
    this.counter = override.counter ?? this.counter + 1;
    const authenticatorData = this.authData(this.flags(0));
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, override.origin);
    const clientDataHash = createHash('sha256').update(Buffer.from(clientDataJSON, 'base64url')).digest();
    const signature = sign('sha256', Buffer.concat([authenticatorData, clientDataHash]), this.privateKey);
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: authenticatorData.toString('base64url'),
        signature: signature.toString('base64url'),
        ...(override.userHandle ? { userHandle: override.userHandle } : {}),
      },
      clientExtensionResults: {},
    };
  }
}
