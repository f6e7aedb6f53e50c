// The script of MediaUploadWidget (s3media_wsgi.adapters.django.widgets), put in the page with it.
//
// A file chosen in a widget goes straight to storage with uploader.js (imported from the widget's
// data-uploader, through the media middleware's upload routes under data-endpoint), with a progress
// bar; once the middleware has confirmed it, the receipt it answered (the id, signed for this user:
// the server takes no bare id but the one the field held already) goes in the widget's hidden input,
// which is what the form submits.  The form cannot be submitted while one of its uploads runs.  The listeners are
// on the document, set once per page however many widgets carry this script, so widgets added later
// (the admin's "Add another" rows) work too.
if (!globalThis.s3mediaUploadWidget) {
  globalThis.s3mediaUploadWidget = true;
  // Widget element -> the AbortController of its upload in progress.
  const running = new Map();

  const partsOf = (widget) => ({
    id: widget.querySelector("[data-s3media-id]"),
    file: widget.querySelector("[data-s3media-file]"),
    bar: widget.querySelector("[data-s3media-progress]"),
    status: widget.querySelector("[data-s3media-status]"),
    current: widget.querySelector("[data-s3media-current]"),
    clear: widget.querySelector("[data-s3media-clear]"),
    picker: widget.querySelector("[data-s3media-focus]"),
  });

  // The focus picker (focus_picker.js) over a picture just uploaded: the person's own file, shown
  // from their disk (no request, nothing to sign in the page); a file this browser cannot show
  // (or no picture at all) leaves no picker, and the focus goes back to none.
  const objectUrls = new WeakMap();
  function showPicture(widget, file, uploaded) {
    const {picker} = partsOf(widget);
    if (!picker || !globalThis.s3mediaFocusPicker) return;
    if (objectUrls.has(widget)) URL.revokeObjectURL(objectUrls.get(widget));
    objectUrls.delete(widget);
    const isImage = file && String(uploaded?.content_type || "").startsWith("image/");
    if (!isImage) {
      globalThis.s3mediaFocusPicker.load(picker, "");
      return;
    }
    const src = URL.createObjectURL(file);
    objectUrls.set(widget, src);
    const image = picker.querySelector("[data-s3media-focus-image]");
    image.addEventListener("error", () => globalThis.s3mediaFocusPicker.load(picker, ""), {once: true});
    const focus = uploaded.info?.focus;
    globalThis.s3mediaFocusPicker.load(picker, src, Array.isArray(focus) && focus.length === 2 ? focus : null);
  }

  const stop = (widget) => {
    running.get(widget)?.abort();
    running.delete(widget);
  };

  async function start(widget, file) {
    const {id, file: chooser, bar, status, current, clear} = partsOf(widget);
    stop(widget);
    const controller = new AbortController();
    running.set(widget, controller);
    widget.dataset.state = "uploading";
    bar.max = file.size || 1;
    bar.value = 0;
    bar.hidden = false;
    status.textContent = `Uploading ${file.name}…`;
    try {
      const {uploadDetailed} = await import(widget.dataset.uploader);
      const uploaded = await uploadDetailed(file, {
        endpoint: widget.dataset.endpoint,
        signal: controller.signal,
        onProgress: ({loaded, total}) => {
          bar.max = total || 1;
          bar.value = loaded;
        },
      });
      if (controller.signal.aborted) return;
      if (typeof uploaded.receipt !== "string") throw new Error("The server sent no upload receipt.");
      id.value = uploaded.receipt;
      widget.dataset.state = "done";
      status.textContent = `Uploaded ${file.name}: saved with the form.`;
      const link = document.createElement("a");
      link.href = uploaded.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = uploaded.id.slice(uploaded.id.lastIndexOf("/") + 1);
      current.replaceChildren(link);
      showPicture(widget, file, uploaded);
      if (clear) clear.hidden = false;
    } catch (error) {
      if (controller.signal.aborted) return;
      // The hidden input keeps what it had: the form saves what was there before.
      widget.dataset.state = "error";
      status.textContent = error.message;
      bar.hidden = true;
      chooser.value = "";
    } finally {
      if (running.get(widget) === controller) running.delete(widget);
    }
  }

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches("[data-s3media-file]")) return;
    const widget = input.closest("[data-s3media-upload]");
    if (widget && input.files.length > 0) start(widget, input.files[0]);
  });

  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-s3media-clear]") : null;
    const widget = button?.closest("[data-s3media-upload]");
    if (!widget) return;
    stop(widget);
    const {id, file, bar, status, current, clear} = partsOf(widget);
    id.value = "";
    file.value = "";
    bar.hidden = true;
    clear.hidden = true;
    current.replaceChildren();
    showPicture(widget, null, null);
    widget.dataset.state = "empty";
    status.textContent = "Removed: saved with the form.";
  });

  // Capture: before the form's own handlers (the admin's among them) see the submit.
  document.addEventListener(
    "submit",
    (event) => {
      const busy = [...running.keys()].filter((widget) => event.target.contains(widget));
      if (busy.length === 0) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      for (const widget of busy) partsOf(widget).status.textContent = "Wait for this upload to finish, then save.";
    },
    true,
  );
}
