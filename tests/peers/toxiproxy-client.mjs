// Drives shout proxy's API with toxiproxy's own Node client (toxiproxy-node-client), as a user of
// toxiproxy would: create a proxy, add, update and remove a toxic, list, reset. Prints one line per
// step ("step key=value"), which the xunit test checks; any failure exits 1 with the error.
// Usage: node toxiproxy-client.mjs http://127.0.0.1:API UPSTREAM_HOST:PORT
import pkg from "toxiproxy-node-client";
const { Toxiproxy } = pkg;

const [api, upstream] = process.argv.slice(2);
const say = (line) => console.log(line);
const toxics = async () => (await fetch(`${api}/proxies/node/toxics`)).json();
const waitLine = () => new Promise((resolve) => process.stdin.once("data", resolve));

try {
  const toxiproxy = new Toxiproxy(api);
  say(`version ${await toxiproxy.getVersion()}`.trim());
  const proxy = await toxiproxy.createProxy({ name: "node", listen: "127.0.0.1:0", upstream });
  say(`created name=${proxy.name} listen=${proxy.listen} enabled=${proxy.enabled}`);
  const toxic = await proxy.addToxic({ name: "lag", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 300, jitter: 0 } });
  say(`added name=${toxic.name} type=${toxic.type} latency=${toxic.attributes.latency}`);
  await waitLine(); // the test measures the latency here
  const updated = await toxic.update({ attributes: { latency: 600 }, toxicity: 1 });
  say(`updated latency=${updated.attributes.latency} jitter=${updated.attributes.jitter}`);
  await waitLine();
  const all = await toxiproxy.getAll();
  const lag = await proxy.getToxic("lag");
  say(`listed proxies=${Object.keys(all).join(",")} lag=${lag.attributes.latency}`);
  await updated.remove();
  say(`removed toxics=${(await toxics()).length}`);
  await proxy.addToxic({ name: "cut", type: "timeout", attributes: { timeout: 0 } });
  await toxiproxy.reset();
  const reset = await toxiproxy.get("node");
  say(`reset toxics=${(await toxics()).length} enabled=${reset.enabled}`);
  try {
    await proxy.addToxic({ type: "nonsense", attributes: {} });
    say("bad accepted");
  } catch (e) {
    say(`bad refused ${e.message}`);
  }
  await reset.remove();
  say("done");
  process.exit(0);
} catch (e) {
  console.error(`toxiproxy-client: ${e.message}`);
  process.exit(1);
}
