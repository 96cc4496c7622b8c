// The published types: the declarations tsc emits for lib/ (what dist/*.d.ts ships) have no `any` in them.
// They are emitted here from the current lib/ with the project's tsconfig (in memory, so a stale dist/
// cannot pass), parsed, and every `any` type in a declaration is reported by file, line and declaration.
// A declaration file holds only what its module exports and the types those exports use, so this covers
// the public signatures, and the internal aliases they go through.
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import ts from 'typescript';

const REPO = path.resolve(__dirname, '..');

/** `file:line  declaration: text` for each `any` type in a declaration file's text. */
function anyTypes(fileName: string, text: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) {
      let decl: ts.Node = node;
      while (decl.parent && !ts.isSourceFile(decl.parent) && !ts.isModuleBlock(decl.parent)) decl = decl.parent;
      const name = (decl as ts.Node & { name?: ts.Node }).name;
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      const where = `${path.relative(REPO, fileName)}:${line + 1}`;
      found.push(`${where}  ${name ? name.getText(sf) : ts.SyntaxKind[decl.kind]}: ${node.parent.getText(sf).slice(0, 120)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** The declaration files tsc emits for the project (name → text), without writing them. */
function emitDeclarations(): Map<string, string> {
  const configFile = ts.readConfigFile(path.join(REPO, 'tsconfig.json'), ts.sys.readFile);
  const config = ts.parseJsonConfigFileContent(configFile.config, ts.sys, REPO);
  const program = ts.createProgram(config.fileNames, { ...config.options, declaration: true, emitDeclarationOnly: true, noEmit: false });
  const out = new Map<string, string>();
  const result = program.emit(undefined, (name, text) => {
    if (name.endsWith('.d.ts')) out.set(name, text);
  });
  const errors = ts
    .getPreEmitDiagnostics(program)
    .concat(result.diagnostics)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  expect(errors).toEqual([]);
  return out;
}

describe('published declarations', () => {
  it('the scan finds `any` where it is and only there', () => {
    const sample = `
      export declare function f(x: any): void;
      export interface I { any(dim?: number): boolean; m(): Promise<any>; readonly anyOf: string; }
      type Hidden = Record<string, any>;
      export declare const g: (h: Hidden) => void;
      /** any in a comment is no type */
      export declare function ok(x: unknown): 'any';`;
    const found = anyTypes(path.join(REPO, 'dist/sample.d.ts'), sample);
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^dist\/sample\.d\.ts:2 {2}f: x: any/);
    expect(found[1]).toMatch(/^dist\/sample\.d\.ts:3 {2}I: Promise<any>/);
    expect(found[2]).toMatch(/^dist\/sample\.d\.ts:4 {2}Hidden: Record<string, any>/);
  });

  it('have no `any` type', () => {
    const decls = emitDeclarations();
    expect(decls.size).toBeGreaterThan(30);
    expect([...decls.keys()].some((f) => f.endsWith(`${path.sep}index.d.ts`))).toBe(true);
    const found = [...decls].flatMap(([file, text]) => anyTypes(file, text));
    expect(found).toEqual([]);
  });
});
