/**
 * Checks real answers against the served /openapi.json, so a route that answers with a status or an error
 * code its operation does not declare fails the test that met it (issue 21.3: a document a code generator
 * can trust). Used by the API tests on every answer they get.
 */

// biome-ignore lint/suspicious/noExplicitAny: the document is read as parsed JSON, field by field
type Json = Record<string, any>;

export interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/** The operations of a document by method, each with the pattern its path template matches. */
export class DocumentedAnswers {
  private readonly operations: { method: string; path: string; pattern: RegExp; operation: Json }[] = [];
  readonly errorCodes: ReadonlySet<string>;

  constructor(readonly spec: Json) {
    for (const [path, operations] of Object.entries<Json>(spec.paths)) {
      const pattern = new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`);
      for (const [method, operation] of Object.entries<Json>(operations))
        this.operations.push({ method: method.toUpperCase(), path, pattern, operation });
    }
    // A concrete path wins over a template (as the router does): fewer parameters first.
    this.operations.sort((a, b) => a.path.split('{').length - b.path.split('{').length);
    this.errorCodes = new Set(spec.components.schemas.Error.properties.error.properties.code.enum);
  }

  /** The documented operation a request reaches, or undefined (an unknown or hidden path). */
  operationFor(method: string, url: string): { path: string; operation: Json } | undefined {
    const path = url.split('?')[0] as string;
    return this.operations.find((entry) => entry.method === method.toUpperCase() && entry.pattern.test(path));
  }

  /** What in the answer the document does not declare, or undefined when all of it is declared. */
  problemWith(method: string, url: string, answer: Answer): string | undefined {
    const found = this.operationFor(method, url);
    if (!found) return undefined;
    const where = `${method.toUpperCase()} ${found.path} answered ${answer.statusCode}`;
    const response = found.operation.responses[String(answer.statusCode)];
    if (!response) return `${where}, a status its operation does not declare`;
    const type = String(answer.headers['content-type'] ?? '').split(';')[0] as string;
    if (response.content && answer.body !== '' && !(type in response.content))
      return `${where} as ${type}, not ${Object.keys(response.content).join(' or ')}`;
    if (answer.statusCode < 400) return undefined;
    const code = (JSON.parse(answer.body) as { error?: { code?: string } }).error?.code;
    if (!code || !this.errorCodes.has(code)) return `${where} with the code ${code}, not in the Error enum`;
    if (code === 'too_many_attempts' && answer.headers['retry-after'] === undefined)
      return `${where} too_many_attempts without Retry-After`;
    return undefined;
  }
}
