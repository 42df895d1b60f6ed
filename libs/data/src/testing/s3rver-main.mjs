// Runs s3rver (a real S3-protocol server) on 127.0.0.1 with an ephemeral port
// and prints {"port": N} once it listens. Started by startS3rver() in a child
// process with --openssl-legacy-provider (s3rver needs it on Node ≥ 17).
// Usage: node --openssl-legacy-provider s3rver-main.mjs <directory> <bucket>...
import S3rver from 's3rver';

const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
