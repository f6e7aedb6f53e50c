// s3media_wsgi's uploader: a browser sends one file straight to storage (S3, or in development the
// middleware standing in for it), then asks the app to confirm it.  No dependency, no build step.
//
//   import { upload } from "/media/uploader.<hash>.js";   // the middleware serves this file
//   const id = await upload(file, { endpoint: "/media", onProgress: ({ loaded, total }) => {}, signal });
//   const { id, url, width, height, receipt } = await uploadDetailed(file, { endpoint: "/media" });
//
// A form that attaches the upload to a record sends the `receipt` back (a signed token naming the id,
// bound to this user), never the bare id: ids are in every URL of a file, so anyone may know one.
//
// It speaks the routes the middleware answers under its prefix (the contract of @uppy/aws-s3's
// Companion mode): up to `multipartThreshold` bytes, one form POST of the signed fields and the
// file; above, a multipart upload (parts in parallel, each retried); then POST s3/confirm, which
// checks what arrived and makes it media.
//
// Options:
//   endpoint            the middleware's prefix without its trailing slash ("/media"); required
//   onProgress          called with {loaded, total} (bytes): never going back, and {loaded: total}
//                       exactly once, at the end, when the upload is confirmed
//   signal              an AbortSignal: cancels (a multipart upload is aborted on the server too)
//   multipartThreshold  bytes above which a multipart upload is made (20 MiB: two parts' worth, and well
//                       below the default upload limit of 50 MiB, so that big files go up in parts with
//                       the defaults; Uppy's own threshold is 100 MiB: give it shouldUseMultipart to match)
//   partSize            bytes of each part but the last (10 MiB; at least 5 MiB, S3's minimum)
//   concurrency         parts sent at once (3)
//   retries             further tries of a part (or of the form) after a network error, a 408,
//                       a 429 or a 5xx, with growing waits (3)
//   fetch               the fetch used for the app's routes (e.g. one that adds an auth header)
//
// A failure rejects with an Error whose message is the server's {"error"} text when it sent one
// (and whose `status` is the HTTP status, 0 for a network error); a cancel rejects with a
// DOMException named "AbortError".

const MiB = 1024 * 1024;
const MIN_PART_SIZE = 5 * MiB; // S3's smallest part, but for the last
const MAX_PARTS = 10000; // S3's most parts

/** Upload *file* (a File or Blob) and confirm it; resolves to the new media id. */
export async function upload(file, options) {
  return (await uploadDetailed(file, options)).id;
}

/**
 * As upload(), resolving to the whole confirm answer: {id, url, content_type, width, height, info, receipt}
 * (info: {content_type, bytes, width, height, placeholder (a base64 ThumbHash), colour, ...}).
 * A form sends the receipt back, not the id: the server gives the id back only to this uploader.
 */
export async function uploadDetailed(file, options = {}) {
  const {
    endpoint,
    onProgress = () => {},
    signal = new AbortController().signal,
    multipartThreshold = 20 * MiB,
    partSize = 10 * MiB,
    concurrency = 3,
    retries = 3,
    fetch = globalThis.fetch.bind(globalThis),
  } = options;
  if (!(file instanceof Blob)) throw new TypeError("upload() needs a File or a Blob");
  if (typeof endpoint !== "string") {
    throw new TypeError('endpoint is required: the media prefix without its trailing slash, e.g. "/media"');
  }
  check("multipartThreshold", multipartThreshold, 0);
  check("partSize", partSize, MIN_PART_SIZE);
  check("concurrency", concurrency, 1);
  check("retries", retries, 0);

  const call = api(endpoint.replace(/\/+$/, ""), fetch);
  const progress = reporter(file.size, onProgress);
  const settings = { signal, partSize, concurrency, retries };
  try {
    const key =
      file.size > multipartThreshold
        ? await multipartUpload(file, call, progress, settings)
        : await formUpload(file, call, progress, settings);
    const confirmed = await call("POST", "/s3/confirm", { key }, signal);
    progress.finish();
    return confirmed;
  } catch (error) {
    // However the cancel surfaced (a fetch, an XHR, a wait), the caller sees one AbortError.
    throw signal.aborted ? abortError(signal) : error;
  }
}

// --- the two ways up ------------------------------------------------------------------------

/** One form POST: the signed fields, then the file (S3 ignores fields after it). */
async function formUpload(file, call, progress, { signal, retries }) {
  const query = new URLSearchParams({ filename: nameOf(file), type: file.type });
  const target = await call("GET", `/s3/params?${query}`, undefined, signal);
  const form = new FormData();
  for (const [name, value] of Object.entries(target.fields)) form.append(name, value);
  form.append("file", file);
  // The form's envelope adds bytes: progress is scaled to the file.
  const sent = (loaded, total) => progress.update(Math.floor((loaded / total) * file.size));
  await withRetries(retries, signal, () =>
    send(target.method || "POST", target.url, form, { signal, headers: target.headers, onProgress: sent }),
  );
  return target.fields.key;
}

/** Start, send the parts (`concurrency` at a time), complete; aborted on the server if anything fails. */
async function multipartUpload(file, call, progress, { signal, partSize, concurrency, retries }) {
  const size = Math.max(partSize, Math.ceil(file.size / MAX_PARTS));
  const count = Math.max(1, Math.ceil(file.size / size));
  const start = { filename: nameOf(file), type: file.type, metadata: {} };
  const started = await call("POST", "/s3/multipart", start, signal);
  const route = `/s3/multipart/${encodeURIComponent(started.uploadId)}`;
  const query = `?${new URLSearchParams({ key: started.key })}`;

  // One switch stops every part: the caller's cancel, or the first part that fails for good.
  const stop = new AbortController();
  const cancel = () => stop.abort();
  signal.addEventListener("abort", cancel, { once: true });
  if (signal.aborted) stop.abort();

  const sent = new Array(count).fill(0); // bytes of each part sent so far
  const parts = new Array(count);
  let next = 0;
  const sendPart = async (number) => {
    sent[number - 1] = 0; // a retry starts the part again (progress never goes back: see reporter)
    const blob = file.slice((number - 1) * size, number * size);
    // The part's size is signed into its URL: storage refuses a part of any other length.
    const partQuery = `?${new URLSearchParams({ key: started.key, size: String(blob.size) })}`;
    const { url } = await call("GET", `${route}/${number}${partQuery}`, undefined, stop.signal);
    const onProgress = (loaded) => {
      sent[number - 1] = loaded;
      progress.update(sent.reduce((a, b) => a + b, 0));
    };
    const xhr = await send("PUT", url, blob, { signal: stop.signal, onProgress });
    const etag = xhr.getResponseHeader("ETag");
    if (!etag) {
      // Not retried: the bucket's CORS rules must list ETag among the exposed headers.
      const message = `part ${number} was sent but its ETag cannot be read: expose ETag in the bucket's CORS`;
      throw failure(message, 0, false);
    }
    return { PartNumber: number, ETag: etag };
  };
  const worker = async () => {
    try {
      while (next < count && !stop.signal.aborted) {
        const number = ++next;
        parts[number - 1] = await withRetries(retries, stop.signal, () => sendPart(number));
      }
    } catch (error) {
      stop.abort();
      throw error;
    }
  };

  try {
    const outcomes = await Promise.allSettled(Array.from({ length: Math.min(concurrency, count) }, worker));
    const failed = outcomes.filter((o) => o.status === "rejected").map((o) => o.reason);
    // The first real failure, not the aborts it caused in the other workers.
    if (failed.length) throw failed.find((error) => error.name !== "AbortError") ?? failed[0];
    if (signal.aborted) throw abortError(signal);
    const done = await call("POST", `${route}/complete${query}`, { parts }, signal);
    return done.key || started.key;
  } catch (error) {
    // Drop the parts already sent (S3 keeps them, and bills them, until aborted).  Best effort, and
    // not cancellable by the caller's signal, but bounded.
    await call("DELETE", `${route}${query}`, undefined, AbortSignal.timeout(10_000)).catch(() => {});
    throw error;
  } finally {
    signal.removeEventListener("abort", cancel);
  }
}

// --- requests -------------------------------------------------------------------------------

/** A caller of the app's JSON routes under *endpoint*: resolves to the answer, rejects with its {"error"}. */
function api(endpoint, fetch) {
  return async (method, path, body, signal) => {
    const init = { method, signal, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json"; // the routes refuse state changes without it
      init.body = JSON.stringify(body);
    }
    let response, text;
    try {
      response = await fetch(endpoint + path, init);
      text = await response.text();
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw failure(`${method} ${endpoint}${path} failed: ${error.message}`, 0);
    }
    const data = parseJSON(text);
    if (!response.ok) {
      throw failure(messageOf(data, text) || `${response.status} ${response.statusText}`, response.status);
    }
    if (data === undefined) {
      throw failure(`${method} ${endpoint}${path}: the answer is not JSON`, response.status, false);
    }
    return data;
  };
}

/**
 * Send *body* with XMLHttpRequest (fetch cannot report upload progress); resolves to the finished
 * XHR when its status is 2xx.  Same-origin requests carry cookies, cross-origin ones (S3) none.
 */
function send(method, url, body, { signal, headers = {}, onProgress }) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    const settle = (outcome) => () => {
      signal.removeEventListener("abort", abort);
      outcome();
    };
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded, event.total);
    xhr.onload = settle(() => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(xhr);
      const message = messageOf(parseJSON(xhr.responseText), xhr.responseText);
      reject(failure(message || `${method} of the file failed: ${xhr.status} ${xhr.statusText}`, xhr.status));
    });
    xhr.onerror = settle(() => reject(failure(`${method} of the file failed: network error`, 0)));
    xhr.onabort = settle(() => reject(abortError(signal)));
    signal.addEventListener("abort", abort, { once: true });
    xhr.send(body);
  });
}

/** Run *attempt*, again after a retryable failure, at most *retries* more times, waiting longer each time. */
async function withRetries(retries, signal, attempt) {
  for (let tried = 0; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (signal.aborted || tried >= retries || !error.retryable) throw error;
      await sleep(Math.min(500 * 2 ** tried, 8000) * (0.5 + Math.random() / 2), signal);
    }
  }
}

// --- small helpers --------------------------------------------------------------------------

/** Progress as the caller sees it: only forward, and the total once, by finish(). */
function reporter(total, onProgress) {
  let reported = 0;
  let finished = false;
  return {
    update(loaded) {
      const value = Math.min(loaded, total - 1); // the total is for the confirmed upload
      if (value > reported) {
        reported = value;
        onProgress({ loaded: value, total });
      }
    },
    finish() {
      if (!finished) {
        finished = true;
        onProgress({ loaded: total, total });
      }
    },
  };
}

/** An Error with the HTTP *status* (0: no answer); retried when the server may do better next time. */
function failure(message, status, retryable = [0, 408, 429].includes(status) || status >= 500) {
  return Object.assign(new Error(message), { status, retryable });
}

function abortError(signal) {
  const reason = signal.reason;
  return reason instanceof DOMException && reason.name === "AbortError"
    ? reason
    : new DOMException("The upload was cancelled.", "AbortError");
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal.addEventListener("abort", stop, { once: true });
  });
}

function parseJSON(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The message of an error answer: our {"error": ...}, or S3's XML <Message>. */
function messageOf(data, text) {
  if (data && typeof data.error === "string") return data.error;
  const match = /<Message>([^<]*)<\/Message>/.exec(text || "");
  return match ? match[1] : "";
}

function nameOf(file) {
  return typeof file.name === "string" && file.name ? file.name : "upload";
}

function check(name, value, min) {
  if (!(value >= min && (Number.isInteger(value) || value === Infinity))) {
    throw new RangeError(`${name} must be a whole number >= ${min}, not ${value}`);
  }
}
