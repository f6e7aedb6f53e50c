// What the Uppy tests load: @uppy/core and @uppy/aws-s3 from node_modules (pinned by
// package-lock.json), bundled by esbuild into build/uppy.bundle.js (see conftest.py).
export { default as Uppy } from "@uppy/core";
export { default as AwsS3 } from "@uppy/aws-s3";
