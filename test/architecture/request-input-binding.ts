import ts from 'typescript';

/**
 * Finds the places where an edge hands request input to a use case unmapped (mass assignment, OWASP API
 * Security Top 10 2023 API3; ASVS 5.0 15.3.3). Identity must come from the session, the API key or the
 * path, and every other field is copied by name, so these shapes are refused:
 *
 * - a spread (`...x` in an object literal, or `Object.assign(target, x)`) of request input: anything
 *   reached through `.body`, `.query`, `.params` or `.form`, or a variable or parameter named like request
 *   input (`request`, `req`, `body`, `query`, `params`, `form`, `input`, `payload`, `fields`, `update`);
 * - the whole body, query or parameters object (`request.body`, `request.query`, `request.params`) passed
 *   as an argument straight to a function imported from the service layer.
 *
 * Spreads of values the server made (`...requestContext(request)`, `...errors(409)`, a result) stay allowed:
 * they carry no field a caller chose.
 */
export interface Violation {
  file: string;
  line: number;
  text: string;
  rule: 'spread' | 'whole-object';
}

const INPUT_NAMES = new Set([
  'request',
  'req',
  'body',
  'query',
  'params',
  'form',
  'input',
  'payload',
  'fields',
  'update',
]);
const INPUT_PROPERTIES = new Set(['body', 'query', 'params', 'form']);

/** `x as T`, `(x)`, `x!`, `<T>x`, `x satisfies T` are all still x. */
function unwrap(node: ts.Expression): ts.Expression {
  let current = node;
  while (
    ts.isAsExpression(current) ||
    ts.isParenthesizedExpression(current) ||
    ts.isNonNullExpression(current) ||
    ts.isTypeAssertionExpression(current) ||
    ts.isSatisfiesExpression(current)
  ) {
    current = current.expression;
  }
  return current;
}

/** True for request input or a part of it: a chain rooted at an input name or passing through `.body` etc. */
function isRequestInput(node: ts.Expression): boolean {
  let current = unwrap(node);
  while (true) {
    if (ts.isIdentifier(current)) return INPUT_NAMES.has(current.text);
    if (ts.isPropertyAccessExpression(current)) {
      if (INPUT_PROPERTIES.has(current.name.text)) return true;
      current = unwrap(current.expression);
      continue;
    }
    if (ts.isElementAccessExpression(current)) {
      current = unwrap(current.expression);
      continue;
    }
    return false;
  }
}

/** `request.body`, `req.query`, `request.params` themselves (not one field of them). */
function isWholeRequestObject(node: ts.Expression): boolean {
  const current = unwrap(node);
  return (
    ts.isPropertyAccessExpression(current) &&
    INPUT_PROPERTIES.has(current.name.text) &&
    ts.isIdentifier(unwrap(current.expression)) &&
    INPUT_NAMES.has((unwrap(current.expression) as ts.Identifier).text)
  );
}

/** The names a file imports from the service layer (any relative path through a `service/` folder). */
function serviceImports(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    if (!/(^|\/)service\//.test(statement.moduleSpecifier.text)) continue;
    const bindings = statement.importClause?.namedBindings;
    if (bindings && ts.isNamedImports(bindings))
      for (const element of bindings.elements) names.add(element.name.text);
  }
  return names;
}

function calleeName(call: ts.CallExpression): string | undefined {
  const callee = unwrap(call.expression);
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return undefined;
}

export function findUnmappedRequestInput(file: string, text: string): Violation[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const services = serviceImports(source);
  const found: Violation[] = [];
  const report = (node: ts.Node, rule: Violation['rule']) =>
    found.push({
      file,
      line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
      text: node.getText(source).replace(/\s+/g, ' ').slice(0, 120),
      rule,
    });
  const visit = (node: ts.Node): void => {
    if (ts.isSpreadAssignment(node) && isRequestInput(node.expression)) report(node, 'spread');
    if (ts.isCallExpression(node)) {
      const callee = unwrap(node.expression);
      const isObjectAssign =
        ts.isPropertyAccessExpression(callee) &&
        ts.isIdentifier(callee.expression) &&
        callee.expression.text === 'Object' &&
        callee.name.text === 'assign';
      if (isObjectAssign && node.arguments.slice(1).some(isRequestInput)) report(node, 'spread');
      const name = calleeName(node);
      if (name && services.has(name) && node.arguments.some(isWholeRequestObject))
        report(node, 'whole-object');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}
