// s3media_wsgi uploader: placeholder, replaced by the real module.
export async function upload(file, options = {}) {
  throw new Error("not implemented yet");
}
