// Drives one unmodified @supabase/realtime-js client for Zora's live protocol tests.
//
//   node client.mjs '<scenario JSON>'
//
// Scenario: {
//   "package": "v1" | "v2",          // realtime-js 2.15.6 (vsn 1.0.0) or 2.109.0 (vsn 2.0.0)
//   "url": "ws://127.0.0.1:8000/realtime/v1",
//   "apikey": "...",                 // the public key or an API token
//   "access_token": "...",           // optional: set with setAuth() before joining
//   "channels": [ <channel spec> ]   // joined at start, in order
// }
// Channel spec: {
//   "name": "orders",                // topic without the "realtime:" prefix
//   "config": {"broadcast": {"self": false, "ack": true}, "presence": {"key": "a"}},
//   "postgres_changes": [{"event": "*", "schema": "public", "table": "orders", "filter": "..."}],
//   "broadcast": ["*"],              // broadcast events to listen to
//   "presence": true                 // listen to presence sync/join/leave
// }
//
// Every callback the client fires is printed to stdout as one JSON line
// ({"type": "status" | "postgres_changes" | "broadcast" | "presence" | "system" | "reply" | ...}).
// Commands arrive on stdin, one JSON object a line, each with an "id" echoed in its reply:
//   {"id", "op": "broadcast", "channel", "event", "payload"}
//   {"id", "op": "track", "channel", "payload"}
//   {"id", "op": "set_auth", "token"}
//   {"id", "op": "leave", "channel"}
//   {"id", "op": "exit"}
// The process exits when stdin closes.
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const PACKAGES = { v1: 'realtime-js-v1', v2: 'realtime-js-v2' };

function emit(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

function describeError(error) {
  if (!error) return null;
  return error instanceof Error ? error.message : String(error);
}

const scenario = JSON.parse(process.argv[2] ?? '{}');
const packageName = PACKAGES[scenario.package];
if (!packageName) {
  emit({ type: 'fatal', error: `unknown package ${JSON.stringify(scenario.package)}: use one of ${Object.keys(PACKAGES)}` });
  process.exit(2);
}
const realtime = await import(packageName);
const RealtimeClient = realtime.RealtimeClient ?? realtime.default.RealtimeClient;

const client = new RealtimeClient(scenario.url, { params: { apikey: scenario.apikey }, transport: WebSocket });
const channels = new Map();

function join(spec) {
  const name = spec.name;
  const channel = client.channel(name, { config: spec.config ?? {} });
  for (const binding of spec.postgres_changes ?? []) {
    channel.on('postgres_changes', binding, (payload) =>
      emit({ type: 'postgres_changes', channel: name, payload }),
    );
  }
  for (const event of spec.broadcast ?? []) {
    channel.on('broadcast', { event }, (message) => emit({ type: 'broadcast', channel: name, message }));
  }
  if (spec.presence) {
    channel.on('presence', { event: 'sync' }, () =>
      emit({ type: 'presence', channel: name, event: 'sync', state: channel.presenceState() }),
    );
    channel.on('presence', { event: 'join' }, ({ key, newPresences }) =>
      emit({ type: 'presence', channel: name, event: 'join', key, presences: newPresences }),
    );
    channel.on('presence', { event: 'leave' }, ({ key, leftPresences }) =>
      emit({ type: 'presence', channel: name, event: 'leave', key, presences: leftPresences }),
    );
  }
  channel.on('system', {}, (payload) => emit({ type: 'system', channel: name, payload }));
  channel.subscribe((status, error) =>
    emit({ type: 'status', channel: name, status, error: describeError(error) }),
  );
  channels.set(name, channel);
}

function channelNamed(name) {
  const channel = channels.get(name);
  if (!channel) throw new Error(`not joined to ${name}`);
  return channel;
}

const commands = {
  broadcast: ({ channel, event, payload }) =>
    channelNamed(channel).send({ type: 'broadcast', event, payload: payload ?? {} }),
  track: ({ channel, payload }) => channelNamed(channel).track(payload ?? {}),
  set_auth: ({ token }) => client.setAuth(token),
  leave: async ({ channel }) => {
    const result = await channelNamed(channel).unsubscribe();
    channels.delete(channel);
    return result;
  },
  exit: async () => {
    client.disconnect();
    emit({ type: 'exited' });
    process.exit(0);
  },
};

async function run(line) {
  let command;
  try {
    command = JSON.parse(line);
  } catch (error) {
    emit({ type: 'reply', id: null, ok: false, error: `not JSON: ${describeError(error)}` });
    return;
  }
  const handler = commands[command.op];
  if (!handler) {
    emit({ type: 'reply', id: command.id, ok: false, error: `unknown op ${JSON.stringify(command.op)}` });
    return;
  }
  try {
    const result = await handler(command);
    emit({ type: 'reply', id: command.id, op: command.op, ok: true, result: result ?? null });
  } catch (error) {
    emit({ type: 'reply', id: command.id, op: command.op, ok: false, error: describeError(error) });
  }
}

if (scenario.access_token) await client.setAuth(scenario.access_token);
for (const spec of scenario.channels ?? []) join(spec);
emit({ type: 'ready', package: packageName, vsn: new URL(client.endpointURL()).searchParams.get('vsn') });

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  if (line.trim()) run(line);
});
input.on('close', () => {
  client.disconnect();
  process.exit(0);
});
