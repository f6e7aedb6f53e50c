// The galleries' direct upload, shared by every example page (gallery_common.UPLOAD_SCRIPT).
//
// A page puts it in a <script type="module">, right after
//     import {uploadDetailed} from "<the uploader_url of the middleware>";
// and gives it a form#upload (data-endpoint: the middleware's prefix without its last "/";
// data-register: the gallery's route that lists a confirmed upload), a ul#queue and a #gallery.
//
// Each file chosen or dropped goes straight to storage (S3, or the middleware itself with local
// storage) with a progress bar of its own; uploader.js has the middleware confirm it, and this
// script then POSTs the upload's receipt (the confirmed id, signed for this user: a bare id, which
// anyone can read in a URL, is not taken) to the register route, which checks it on the server and
// answers the new image's HTML.  Each file has a card in the queue: its progress, then "Added to the
// gallery" or the refusal, worded as the form's page words it.  Without JavaScript, the same form
// posts the files to /upload.

const form = document.getElementById("upload");
const chooser = form.querySelector('input[type="file"]');
const queue = document.getElementById("queue");
const gallery = document.getElementById("gallery");
const {endpoint, register} = form.dataset;
// Django's CSRF token, when the page carries one (the Flask, Pyramid and WSGI demos have none:
// their register route takes JSON only, which a form on another site cannot send).
const csrf = form.querySelector('input[name="csrfmiddlewaretoken"]')?.value;
// Files uploaded at once; the others wait their turn.
const PARALLEL = 3;
const waiting = [];
let running = 0;

// Choosing or dropping files starts their upload: the button only serves pages without this script.
form.querySelector("button").hidden = true;
chooser.required = false;

function enqueue(files) {
  for (const file of files) waiting.push(row(file));
  pump();
}

function row(file) {
  const item = document.createElement("li");
  const name = document.createElement("span");
  const bar = document.createElement("progress");
  const status = document.createElement("span");
  name.textContent = file.name;
  name.title = file.name;
  bar.max = file.size || 1;
  bar.value = 0;
  item.dataset.state = "waiting";
  status.textContent = "Waiting";
  item.append(name, bar, status);
  queue.append(item);
  return {file, item, bar, status};
}

// A refusal reads as on the form's page (gallery_common.refusal_message): "Upload refused. " and the
// server's own sentence.  The register route's refusals come worded so already.
function refusal(error) {
  const message = (error.message || "").trim().replace(/\.$/, "");
  if (message.startsWith("Upload refused.")) return `${message}.`;
  const refused = error.status >= 400 && error.status < 500;
  return `${refused ? "Upload refused" : "Upload failed"}. ${message.charAt(0).toUpperCase()}${message.slice(1)}.`;
}

function pump() {
  while (running < PARALLEL && waiting.length > 0) {
    running += 1;
    send(waiting.shift()).finally(() => {
      running -= 1;
      pump();
    });
  }
}

async function send({file, item, bar, status}) {
  try {
    item.dataset.state = "uploading";
    status.textContent = "Uploading";
    const uploaded = await uploadDetailed(file, {
      endpoint,
      onProgress: ({loaded, total}) => {
        bar.max = total || 1;
        bar.value = loaded;
      },
    });
    status.textContent = "Adding to the gallery";
    const headers = {"Content-Type": "application/json"};
    if (csrf) headers["X-CSRFToken"] = csrf;
    const response = await fetch(register, {
      method: "POST",
      headers,
      credentials: "same-origin",
      // The receipt carries the upload's size and placeholder, signed by the server: nothing else to send.
      body: JSON.stringify({receipt: uploaded.receipt, name: file.name}),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw Object.assign(new Error(answer.error || `${response.status} ${response.statusText}`), {
        status: response.status,
      });
    }
    gallery.querySelector(".empty")?.remove();
    gallery.insertAdjacentHTML("afterbegin", answer.html);
    item.dataset.state = "done";
    status.textContent = "Added to the gallery";
  } catch (error) {
    item.className = "error";
    item.dataset.state = "refused";
    status.textContent = refusal(error);
  }
}

chooser.addEventListener("change", () => {
  enqueue(chooser.files);
  chooser.value = "";
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  enqueue(chooser.files);
  chooser.value = "";
});

// Files dropped anywhere on the page are uploaded (and the browser never opens them instead).
const carriesFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files");
document.addEventListener("dragover", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  form.classList.add("dragging");
});
document.addEventListener("dragleave", (event) => {
  if (event.relatedTarget === null) form.classList.remove("dragging");
});
document.addEventListener("drop", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  form.classList.remove("dragging");
  enqueue(event.dataTransfer.files);
});

// A delete form with data-confirm asks first.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset?.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
