// An MQTT 3.1.1 broker that is not mosquitto, for interoperability tests:
// aedes answers an MQTT 5 CONNECT with a 3.1.1 CONNACK, return code 1.
//   node aedes_broker.mjs PORT
import { Aedes } from 'aedes';
import { createServer } from 'node:net';

const port = parseInt(process.argv[2], 10);
const aedes = await Aedes.createBroker();
const server = createServer(aedes.handle);
server.listen(port, '127.0.0.1', () => console.error(`aedes listening on 127.0.0.1:${port}`));
aedes.on('client', (client) => console.error(`client connected: ${client.id}`));
aedes.on('connectionError', (client, err) => console.error(`connection error: ${client ? client.id : '?'}: ${err.message}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
