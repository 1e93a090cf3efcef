/**
 * What a consumer gets from the published packages, read from each packages/*\/package.json and
 * the package's sources (no pack, no install):
 * - rxjs is a peer dependency of every package whose sources use it, never a dependency: one
 *   copy in a consumer's tree keeps `Observable` types compatible and makes rxjs's
 *   `config.onUnhandledError` apply to the library's observables too.
 * - every module a package's sources import at run time is in its dependencies or peers.
 * - a package whose declarations need DefinitelyTyped types (`@types/ws`) ships them as a
 *   dependency, so a consumer with `skipLibCheck: false` does not hit TS7016.
 * - every publishable package rebuilds a clean dist before it is packed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const packagesDir = join(root, 'packages');

type DependencyMap = Record<string, string>;

interface Manifest {
  name: string;
  private?: boolean;
  scripts?: Record<string, string>;
  dependencies?: DependencyMap;
  peerDependencies?: DependencyMap;
  devDependencies?: DependencyMap;
}

/** The bare modules one file names, split by whether the import survives compilation. */
interface ModuleUse {
  /** Imported at run time: a value import, a side-effect import or `import()`. */
  runtime: Set<string>;
  /** Imported for types only: `import type`, `export type`, inline `type` names, `import('x').T`. */
  types: Set<string>;
}

interface Package {
  dir: string;
  manifest: Manifest;
  /** Every module the package's src/**\/*.ts imports, at run time or for types. */
  src: ModuleUse;
  /** Modules named by the emitted declarations in dist (empty before a build). */
  declarations: Set<string>;
}

const builtins = new Set(builtinModules);

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; undefined for relative and builtins. */
function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) {
    return undefined;
  }
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtins.has(name) ? undefined : name;
}

function moduleUse(fileName: string, text: string): ModuleUse {
  const use: ModuleUse = { runtime: new Set(), types: new Set() };
  const add = (specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (!specifier || !ts.isStringLiteral(specifier)) return;
    const name = packageName(specifier.text);
    if (name) (typeOnly ? use.types : use.runtime).add(name);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const inlineTypes =
        bindings && ts.isNamedImports(bindings) && bindings.elements.some((e) => e.isTypeOnly);
      // Under verbatimModuleSyntax only `import type` is erased; `import { type A }` stays.
      add(node.moduleSpecifier, clause?.isTypeOnly === true);
      if (inlineTypes) add(node.moduleSpecifier, true);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument)) add(argument.literal as ts.Expression, true);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true));
  return use;
}

function files(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(suffix))
    .sort();
}

function loadPackage(dir: string): Package {
  const base = join(packagesDir, dir);
  const manifest = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8')) as Manifest;
  const src: ModuleUse = { runtime: new Set(), types: new Set() };
  for (const file of files(join(base, 'src'), '.ts')) {
    const use = moduleUse(file, readFileSync(join(base, 'src', file), 'utf8'));
    for (const name of use.runtime) src.runtime.add(name);
    for (const name of use.types) src.types.add(name);
  }
  // Only declarations that a current source emits: a stale output is not what a pack would ship.
  const declarations = new Set<string>();
  for (const file of files(join(base, 'dist'), '.d.ts')) {
    if (!existsSync(join(base, 'src', file.replace(/\.d\.ts$/, '.ts')))) continue;
    const use = moduleUse(file, readFileSync(join(base, 'dist', file), 'utf8'));
    for (const name of [...use.runtime, ...use.types]) declarations.add(name);
  }
  for (const set of [src.runtime, src.types, declarations]) set.delete(manifest.name);
  return { dir, manifest, src, declarations };
}

const packages = readdirSync(packagesDir)
  .filter((dir) => existsSync(join(packagesDir, dir, 'package.json')))
  .sort()
  .map(loadPackage);

/** The DefinitelyTyped package for a module: `ws` → `@types/ws`, `@a/b` → `@types/a__b`. */
function typesPackage(name: string): string {
  return `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`;
}

describe('packaging', () => {
  it('finds the workspace packages and their sources', () => {
    expect(packages.map((p) => p.dir)).toContain('core');
    expect(packages.find((p) => p.dir === 'core')?.src.runtime.has('rxjs')).toBe(true);
  });

  it('lists rxjs in no package dependencies', () => {
    const offenders = packages.filter((p) => p.manifest.dependencies?.rxjs !== undefined);
    expect(offenders.map((p) => p.manifest.name)).toEqual([]);
  });

  describe.each(packages.map((p) => [p.manifest.name, p] as const))('%s', (_name, pkg) => {
    const { manifest } = pkg;

    it('declares every module its sources import at run time', () => {
      const declared = { ...manifest.dependencies, ...manifest.peerDependencies };
      const missing = [...pkg.src.runtime].filter((name) => declared[name] === undefined);
      expect(missing).toEqual([]);
    });

    it('ships the @types packages its declarations need as dependencies', () => {
      const listed = {
        ...manifest.devDependencies,
        ...manifest.peerDependencies,
        ...manifest.dependencies,
      };
      const exposed = new Set([...pkg.src.types, ...pkg.declarations]);
      const needed = [...exposed]
        .map(typesPackage)
        .filter((types) => types === '@types/ws' || listed[types] !== undefined);
      const missing = needed.filter((types) => manifest.dependencies?.[types] === undefined);
      expect(missing).toEqual([]);
    });
  });

  const rxjsUsers = packages.filter((p) => p.src.runtime.has('rxjs') || p.src.types.has('rxjs'));
  it.each(rxjsUsers.map((p) => [p.manifest.name, p.manifest] as const))(
    '%s takes rxjs as a peer dependency, and as a dev dependency to build',
    (_name, manifest) => {
      expect(manifest.dependencies?.rxjs).toBeUndefined();
      expect(manifest.peerDependencies?.rxjs).toBeDefined();
      expect(manifest.devDependencies?.rxjs).toBeDefined();
    },
  );

  const published = packages.filter((p) => p.manifest.private !== true);
  it.each(published.map((p) => [p.manifest.name, p.manifest] as const))(
    '%s rebuilds a clean dist before it is packed',
    (_name, manifest) => {
      expect(manifest.scripts?.prepack).toMatch(/dist/);
      expect(manifest.scripts?.prepack).toMatch(/tsc -b/);
    },
  );

  it('asks every package for the same rxjs range', () => {
    const ranges = new Set(packages.map((p) => p.manifest.peerDependencies?.rxjs));
    ranges.delete(undefined);
    expect(ranges.size).toBe(1);
  });
});
