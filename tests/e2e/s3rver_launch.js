// Starts s3rver, an S3 server that checks SigV4 signatures, on 127.0.0.1:PORT with one bucket.
// Usage: node s3rver_launch.js DIRECTORY PORT BUCKET   (NODE_PATH must reach @20minutes/s3rver)
const S3rver = require('@20minutes/s3rver');

const [directory, port, bucket] = process.argv.slice(2);
new S3rver({
  directory,
  address: '127.0.0.1',
  port: Number(port),
  silent: true,
  configureBuckets: [{ name: bucket, configs: [] }],
})
  .run()
  .then(() => console.log('ready'))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
