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
const stop = () => {
  // Open keep-alive connections can hold close() back: exit after a short grace period regardless.
  setTimeout(() => process.exit(0), 500).unref();
  server.close().then(
    () => process.exit(0),
    () => process.exit(0),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The parent holds our stdin open; when it dies (even by SIGKILL) stdin ends and so do we.
process.stdin.on('end', stop);
process.stdin.resume();
