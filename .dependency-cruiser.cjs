// The rooms of src/ and which may import which (docs/architecture.md explains each). Dependencies point one
// way, down toward protocol, apps, config and errors: a room may import only the rooms listed for it. Type-only
// imports count (tsPreCompilationDeps), since a type import is a dependency a reader has to follow too.
/** What every room above the state table may stand on. */
const FOUNDATION = ['errors', 'config', 'observability', 'apps', 'protocol'];
const ON_STATE = [...FOUNDATION, 'state'];
const ON_GATEWAY = [...ON_STATE, 'webhooks', 'gateway'];
/** The two front doors stand on publishing: the WebSocket routes for client events, the HTTP API for events. */
const FRONT_DOOR = [...ON_GATEWAY, 'limits', 'cleanup', 'publish'];

const ROOMS = {
  errors: [],
  config: ['errors'],
  observability: ['errors', 'config'],
  apps: ['errors', 'config', 'observability'],
  protocol: ['errors', 'apps'],
  state: FOUNDATION,
  limits: ON_STATE,
  webhooks: ON_STATE,
  gateway: [...ON_STATE, 'limits', 'webhooks'],
  cleanup: ON_GATEWAY,
  publish: [...ON_GATEWAY, 'cleanup'],
  websocket: FRONT_DOOR,
  'http-api': FRONT_DOOR,
  authorizers: [...FOUNDATION, 'webhooks', 'gateway'],
  cli: [...FOUNDATION, 'webhooks'],
  // The stand-ins read what the handlers send (a greeting's socket id names its connection).
  local: ON_GATEWAY,
};

const roomRules = Object.entries(ROOMS).map(([room, allowed]) => ({
  name: `room-${room}`,
  comment: `src/${room} may import only ${allowed.length === 0 ? 'nothing of src' : allowed.join(', ')}`,
  severity: 'error',
  from: { path: `^src/${room}/` },
  to: { path: '^src/', pathNot: [`^src/(${[room, ...allowed].join('|')})/`] },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No file may depend on itself through others',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      comment: 'No room may depend on itself through other rooms',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'known-rooms',
      comment: 'Every file under src/ lives in a room listed above (src/index.ts is the public API)',
      severity: 'error',
      from: {},
      to: { path: '^src/', pathNot: [`^src/(${Object.keys(ROOMS).join('|')})/`, '^src/index\\.ts$'] },
    },
    {
      name: 'no-orphans',
      comment: 'A file under src/ that nothing imports and that imports nothing is dead or misplaced',
      severity: 'error',
      from: { orphan: true, path: '^src/', pathNot: '^src/index\\.ts$' },
      to: {},
    },
    {
      name: 'src-stands-alone',
      comment: 'src/ never imports the handlers, tests, benchmarks or scripts built on it',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(handlers|test|bench|scripts)/' },
    },
    {
      name: 'public-api-is-not-internal',
      comment: 'src/index.ts is for users; the rooms import each other directly',
      severity: 'error',
      from: { path: '^(src|handlers)/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'handlers-are-leaves',
      comment: 'A handler is one Lambda; nothing imports another handler',
      severity: 'error',
      from: { path: '^(src|handlers)/' },
      to: { path: '^handlers/' },
    },
    ...roomRules,
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
  },
};
