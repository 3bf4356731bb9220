/**
 * The YAML parsers, loaded on first use: the parsed-rule cache means most hunts parse no YAML at
 * all, and loading `yaml` and `js-yaml` up front cost about 30 ms of every start-up.
 */
import { createRequire } from 'node:module';

const requireModule = createRequire(import.meta.url);
let yamlModule: typeof import('yaml') | null = null;
let jsYamlModule: typeof import('js-yaml') | null = null;

/** `yaml`: the positional parser (line and column of every node). */
export function yaml(): typeof import('yaml') {
  yamlModule ??= requireModule('yaml') as typeof import('yaml');
  return yamlModule;
}

/** `js-yaml`: the fast parser, for files without YAML features it gets wrong (see load.ts). */
export function jsYaml(): typeof import('js-yaml') {
  jsYamlModule ??= requireModule('js-yaml') as typeof import('js-yaml');
  return jsYamlModule;
}
