// The script of MediaListWidget (s3media_wsgi.adapters.django.widgets), put in the page with it.
//
// Files chosen in a list widget each become an item at once (a local preview as thumbnail, a
// progress bar), then go straight to storage with uploader.js (imported from data-uploader, through
// the media middleware's routes under data-endpoint), data-concurrency at a time.  A confirmed
// upload's receipt goes in the item's hidden input (named after the field: the form submits one
// value per item, in the list's order); a refused file keeps its item with the server's message and
// no input (it is not sent; its remove button clears it).  Items move with their buttons (keyboard,
// touch) or by drag and drop.  The form cannot be submitted while an upload runs.  Listeners are on
// the document, set once per page, so lists added later (the admin's inlines) work too.
if (!globalThis.s3mediaListWidget) {
  globalThis.s3mediaListWidget = true;
  // Item element -> the AbortController of its upload (waiting or running).
  const running = new Map();
  // List element -> {active: uploads running, queue: [start functions]}.
  const queues = new WeakMap();

  const baseName = (name) => name.slice(name.lastIndexOf("/") + 1);
  const listOf = (element) => element.closest("[data-s3media-list]");
  const itemsOf = (list) => list.querySelector("[data-s3media-items]");
  const statusOf = (list) => list.querySelector("[data-s3media-list-status]");

  function button(label, text, attribute, value) {
    const element = document.createElement("button");
    element.type = "button";
    element.setAttribute(attribute, value);
    element.setAttribute("aria-label", label);
    element.title = label;
    element.textContent = text;
    return element;
  }

  /** A new item for *file*, as the server renders one, with a local preview when the browser can show it. */
  function newItem(file) {
    const item = document.createElement("li");
    item.className = "s3media-item";
    item.dataset.s3mediaItem = "";
    item.dataset.state = "waiting";
    item.draggable = true;
    const thumb = document.createElement("span");
    thumb.className = "s3media-thumb";
    thumb.dataset.s3mediaThumb = "";
    thumb.style.backgroundColor = "#ddd";
    if (file.type.startsWith("image/")) {
      const img = document.createElement("img");
      img.alt = "";
      img.width = 96;
      img.height = 96;
      img.style.objectFit = "cover";
      img.src = URL.createObjectURL(file);
      img.addEventListener("error", () => img.remove(), { once: true }); // not an image after all: the placeholder
      thumb.append(img);
    }
    const name = document.createElement("span");
    name.dataset.s3mediaName = "";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.dataset.s3mediaProgress = "";
    bar.max = file.size || 1;
    bar.value = 0;
    const status = document.createElement("span");
    status.dataset.s3mediaStatus = "";
    status.setAttribute("role", "status");
    status.textContent = "Waiting…";
    item.append(thumb, " ", name, " ", bar, " ", status, " ");
    item.append(button("Move up", "↑", "data-s3media-move", "-1"), " ");
    item.append(button("Move down", "↓", "data-s3media-move", "1"), " ");
    item.append(button("Remove", "×", "data-s3media-remove", ""));
    return item;
  }

  /** Run *task* when fewer than the list's data-concurrency uploads are running. */
  function schedule(list, task) {
    let state = queues.get(list);
    if (!state) {
      state = { active: 0, queue: [] };
      queues.set(list, state);
    }
    const limit = Math.max(1, Number(list.dataset.concurrency) || 3);
    const next = () => {
      while (state.active < limit && state.queue.length > 0) {
        const run = state.queue.shift();
        state.active += 1;
        run().finally(() => {
          state.active -= 1;
          next();
        });
      }
    };
    state.queue.push(task);
    next();
  }

  async function upload(list, item, file, controller) {
    const bar = item.querySelector("[data-s3media-progress]");
    const status = item.querySelector("[data-s3media-status]");
    if (controller.signal.aborted) return;
    item.dataset.state = "uploading";
    status.textContent = "Uploading…";
    try {
      const { uploadDetailed } = await import(list.dataset.uploader);
      const uploaded = await uploadDetailed(file, {
        endpoint: list.dataset.endpoint,
        signal: controller.signal,
        onProgress: ({ loaded, total }) => {
          bar.max = total || 1;
          bar.value = loaded;
        },
      });
      if (controller.signal.aborted) return;
      if (typeof uploaded.receipt !== "string") throw new Error("The server sent no upload receipt.");
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = list.dataset.name;
      input.value = uploaded.receipt;
      input.dataset.s3mediaValue = "";
      item.prepend(input);
      const link = document.createElement("a");
      link.href = uploaded.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.dataset.s3mediaName = "";
      link.textContent = baseName(uploaded.id);
      item.querySelector("[data-s3media-name]").replaceWith(link);
      const colour = uploaded.info?.colour;
      if (typeof colour === "string" && /^#[0-9a-f]{3,6}$/i.test(colour)) {
        item.querySelector("[data-s3media-thumb]").style.backgroundColor = colour;
      }
      bar.hidden = true;
      item.dataset.state = "done";
      status.textContent = "Uploaded: saved with the form.";
    } catch (error) {
      if (controller.signal.aborted) return;
      // The library's own message (the server's refusal); the item sends nothing.
      item.dataset.state = "error";
      bar.hidden = true;
      status.textContent = error.message;
    } finally {
      if (running.get(item) === controller) running.delete(item);
      updateStatus(list);
    }
  }

  /** Items that are or will be part of the list (not the refused ones). */
  const counted = (list) => [...itemsOf(list).children].filter((item) => item.dataset.state !== "error").length;

  function updateStatus(list) {
    const busy = [...running.keys()].filter((item) => list.contains(item)).length;
    const status = statusOf(list);
    if (busy > 0) status.textContent = `Uploading ${busy} file${busy === 1 ? "" : "s"}…`;
    else if (status.dataset.message) status.textContent = status.dataset.message;
    else status.textContent = "";
  }

  function add(list, files) {
    const max = Number(list.dataset.max) || Infinity;
    let room = max - counted(list);
    const status = statusOf(list);
    status.dataset.message = "";
    for (const file of files) {
      if (room <= 0) {
        status.dataset.message = `At most ${max} files: ${file.name} and the files after it were not added.`;
        break;
      }
      room -= 1;
      const item = newItem(file);
      itemsOf(list).append(item);
      const controller = new AbortController();
      running.set(item, controller);
      schedule(list, () => upload(list, item, file, controller));
    }
    updateStatus(list);
  }

  function move(item, step) {
    const sibling = step < 0 ? item.previousElementSibling : item.nextElementSibling;
    if (!sibling) return;
    if (step < 0) sibling.before(item);
    else sibling.after(item);
  }

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches("[data-s3media-files]")) return;
    const list = listOf(input);
    if (list && input.files.length > 0) add(list, [...input.files]);
    input.value = ""; // the same files may be chosen again
  });

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const moveButton = target?.closest("[data-s3media-move]");
    const removeButton = target?.closest("[data-s3media-remove]");
    const item = (moveButton || removeButton)?.closest("[data-s3media-item]");
    const list = item && listOf(item);
    if (!list) return;
    if (moveButton) {
      move(item, Number(moveButton.dataset.s3mediaMove));
      moveButton.focus(); // keyboard users keep their place
      statusOf(list).textContent = "Moved: saved with the form.";
      return;
    }
    running.get(item)?.abort();
    running.delete(item);
    for (const img of item.querySelectorAll("img[src^='blob:']")) URL.revokeObjectURL(img.src);
    item.remove();
    statusOf(list).dataset.message = "";
    statusOf(list).textContent = "Removed: saved with the form.";
    updateStatus(list);
  });

  // Drag and drop, for pointers: the buttons do the same for keyboards and touch.
  let dragged = null;
  document.addEventListener("dragstart", (event) => {
    const item = event.target instanceof Element ? event.target.closest("[data-s3media-item]") : null;
    if (!item) return;
    dragged = item;
    event.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragover", (event) => {
    const over = event.target instanceof Element ? event.target.closest("[data-s3media-item]") : null;
    if (!dragged || !over || over === dragged || over.parentElement !== dragged.parentElement) return;
    event.preventDefault();
    const box = over.getBoundingClientRect();
    if (event.clientY < box.top + box.height / 2) over.before(dragged);
    else over.after(dragged);
  });
  document.addEventListener("dragend", () => {
    dragged = null;
  });

  // Capture: before the form's own handlers (the admin's among them) see the submit.
  document.addEventListener(
    "submit",
    (event) => {
      const busy = [...running.keys()].filter((item) => event.target.contains(item));
      if (busy.length === 0) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      for (const list of new Set(busy.map(listOf))) {
        statusOf(list).textContent = "Wait for the uploads to finish, then save.";
      }
    },
    true,
  );
}
