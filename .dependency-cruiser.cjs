/**
 * The layout's import rules, checked by `npm run deps` (part of `npm test`). The direction, from the
 * bottom up:
 *
 *   protocol, lib            the wire contract and shared utilities: import no other part
 *   config                   the validated config: protocol, lib
 *   edge                     store-side agent: protocol, lib
 *   simulators               the store simulation: protocol, config, lib
 *   evaluation               `storeloop evaluate`: protocol, config, lib, simulators (the truth's
 *                            types) and gateway/influx (InfluxQL) only
 *   gateway                  protocol, config, lib; its composition root (gateway/gateway.ts)
 *                            also registers the dashboards plugin
 *   dashboards               analyst pages: protocol, config, lib (data through the HTTP API)
 *   devtools                 development helpers (free ports, a throwaway influxd, programs on
 *                            PATH): protocol, config, lib; used by tests, bench and the demo only
 *   cli                      the `storeloop` command: wires everything above
 *   bench, test              may use every part (bench not test helpers; bench/accuracy.ts runs the
 *                            evaluator over several seeds)
 *
 * Tests beside a module (*.test.ts) may use test/ and devtools/. No part may import itself in a circle.
 */
const SOURCE = '^(protocol|lib|config|edge|simulators|evaluation|gateway|dashboards|devtools|cli)/';
const TESTS = '(\\.test\\.ts|\\.fixtures\\.ts)$';

/** A folder that may import only the listed folders (and itself). */
function only(folder, allowed, comment) {
  const all = ['protocol', 'lib', 'config', 'edge', 'simulators', 'evaluation', 'gateway', 'dashboards', 'devtools', 'cli', 'bench', 'test'];
  const forbidden = all.filter((f) => f !== folder && !allowed.includes(f));
  return {
    name: `${folder}-imports`,
    comment,
    severity: 'error',
    from: { path: `^${folder}/`, pathNot: TESTS },
    to: { path: `^(${forbidden.join('|')})/` },
  };
}

module.exports = {
  forbidden: [
    only('protocol', [], 'protocol/ is the wire contract every part imports: it imports no other part (zod only)'),
    only('lib', [], 'lib/ holds utilities every part may use: it imports no other part'),
    only('config', ['protocol', 'lib'], 'config/ validates the YAML config against the contract: protocol and lib only'),
    only('edge', ['protocol', 'lib'], 'the edge agent runs in the store and shares only the contract and lib with the gateway'),
    only('simulators', ['protocol', 'config', 'lib'], 'the simulator places its store from the config and speaks the contract; nothing of the gateway or edge'),
    only(
      'evaluation',
      ['protocol', 'config', 'lib', 'simulators', 'gateway'],
      'the evaluator reads the truth (simulators) and InfluxDB (gateway/influx); nothing imports it but cli/ and the accuracy runner in bench/',
    ),
    {
      name: 'evaluation-gateway-influx-only',
      comment: 'of the gateway, the evaluator uses only the InfluxQL client in gateway/influx/',
      severity: 'error',
      from: { path: '^evaluation/', pathNot: TESTS },
      to: { path: '^gateway/', pathNot: '^gateway/influx/' },
    },
    {
      ...only(
        'gateway',
        ['protocol', 'config', 'lib'],
        'the gateway uses the contract, the config and lib; only its composition root registers the dashboards',
      ),
      from: { path: '^gateway/', pathNot: [TESTS, '^gateway/gateway\\.ts$'] },
    },
    only('dashboards', ['protocol', 'config', 'lib'], 'dashboards read through the HTTP API: they import no gateway internals'),
    {
      name: 'dashboards-web-alone',
      comment: 'the analyst pages are bundled for the browser (dashboards/web): they import their own modules and browser libraries, no part of the program',
      severity: 'error',
      from: { path: '^dashboards/web/' },
      to: { path: '^(protocol|lib|config|edge|simulators|evaluation|gateway|devtools|cli|bench|test)/|^dashboards/(?!web/)' },
    },
    {
      name: 'dashboards-web-bundled-only',
      comment: 'the pages reach the program as a bundle (dist/web), never as imports',
      severity: 'error',
      from: { path: '^(?!dashboards/web/)' },
      to: { path: '^dashboards/web/' },
    },
    only('devtools', ['protocol', 'config', 'lib'], 'development helpers stand on the contract, the config and lib'),
    {
      name: 'devtools-users',
      comment: 'development helpers (throwaway influxd, free ports) are for tests, bench and the demo, never the product',
      severity: 'error',
      from: { path: SOURCE, pathNot: [TESTS, '^devtools/', '^cli/commands/demo-command\\.ts$'] },
      to: { path: '^devtools/' },
    },
    only(
      'cli',
      ['protocol', 'lib', 'config', 'edge', 'simulators', 'evaluation', 'gateway', 'dashboards', 'devtools'],
      'the CLI wires the parts; tests and bench are not part of the product',
    ),
    only(
      'bench',
      ['protocol', 'lib', 'config', 'gateway', 'devtools', 'simulators', 'evaluation'],
      'the bench runs the gateway as a process (the accuracy runner in process, with the evaluator); it shares no code with the tests',
    ),
    {
      name: 'no-test-helpers-in-source',
      comment: 'product code never imports test helpers',
      severity: 'error',
      from: { path: SOURCE, pathNot: TESTS },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      comment: 'modules that import each other in a circle cannot be understood or tested one at a time',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs'],
    },
    moduleSystems: ['es6', 'cjs'],
  },
};
