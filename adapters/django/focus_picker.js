// The focus picker (s3media_wsgi.adapters.django.focus): a person says where a picture's subject is.
//
// Markup: an element [data-s3media-focus] holding the hidden input [data-s3media-focus-value] (what the
// form submits: "" for none, else "x,y", fractions 0-1 of the upright picture), the frame
// [data-s3media-focus-frame] with the picture and its marker, a Reset button, a status line, and
// previews [data-s3media-focus-preview="W:H"] placed with CSS as the server places a fill crop (centred
// on the point, kept inside the picture), so no URL is signed in the page.  A click or a tap sets the
// point; the arrow keys move it (5 hundredths a press, 1 with Shift); Escape or Reset takes it away.
// Listeners are on the document, set once per page however many pickers carry this script; another
// widget shows a picture in a picker with globalThis.s3mediaFocusPicker.load(picker, src, focus).
if (!globalThis.s3mediaFocusPicker) {
  const STEPS = 100; // a focus is kept in whole hundredths, as the server rounds it
  const pointOf = (picker) => {
    const text = picker.querySelector("[data-s3media-focus-value]").value.trim();
    const parts = text.split(",");
    if (parts.length !== 2) return null;
    const [x, y] = parts.map((part) => Math.round(Number(part) * STEPS));
    if (!Number.isFinite(x) || !Number.isFinite(y) || x < 0 || x > STEPS || y < 0 || y > STEPS) return null;
    return [x, y];
  };

  const percent = (steps) => `${steps}%`;

  // Where object-position puts a cover-fitted picture in a box of w x h so that the point is as
  // near the box's centre as the picture allows: the server's fill crop, in CSS pixels.
  function placePreview(preview, image, point) {
    const iw = image.naturalWidth;
    const ih = image.naturalHeight;
    const bw = preview.clientWidth;
    const bh = preview.clientHeight;
    if (!point || !iw || !ih || !bw || !bh) {
      preview.style.objectPosition = "50% 50%";
      return;
    }
    const scale = Math.max(bw / iw, bh / ih);
    const sw = iw * scale;
    const sh = ih * scale;
    const left = Math.min(Math.max((point[0] / STEPS) * sw - bw / 2, 0), sw - bw);
    const top = Math.min(Math.max((point[1] / STEPS) * sh - bh / 2, 0), sh - bh);
    preview.style.objectPosition = `${-left}px ${-top}px`;
  }

  function show(picker) {
    const point = pointOf(picker);
    const marker = picker.querySelector("[data-s3media-focus-marker]");
    const status = picker.querySelector("[data-s3media-focus-status]");
    const image = picker.querySelector("[data-s3media-focus-image]");
    if (point) {
      marker.style.left = percent(point[0]);
      marker.style.top = percent(point[1]);
      marker.hidden = false;
      status.textContent = `Focus: ${point[0]}% from the left, ${point[1]}% from the top.`;
    } else {
      marker.hidden = true;
      status.textContent = "No focus point: crops are centred.";
    }
    for (const preview of picker.querySelectorAll("[data-s3media-focus-preview]")) {
      placePreview(preview, image, point);
    }
  }

  function set(picker, point) {
    const input = picker.querySelector("[data-s3media-focus-value]");
    input.value = point ? `${point[0] / STEPS},${point[1] / STEPS}` : "";
    input.dispatchEvent(new Event("change", { bubbles: true }));
    show(picker);
  }

  const clamp = (n) => Math.min(Math.max(n, 0), STEPS);

  globalThis.s3mediaFocusPicker = {
    // Show *src* in *picker* with the focus *focus* ([x, y] in fractions 0-1, or null); no src hides it.
    load(picker, src, focus = null) {
      const image = picker.querySelector("[data-s3media-focus-image]");
      const point = focus ? [clamp(Math.round(focus[0] * STEPS)), clamp(Math.round(focus[1] * STEPS))] : null;
      if (!src) {
        picker.hidden = true;
        image.removeAttribute("src");
        set(picker, null);
        return;
      }
      image.src = src;
      for (const preview of picker.querySelectorAll("[data-s3media-focus-preview]")) preview.src = src;
      picker.hidden = false;
      set(picker, point);
    },
    // The point a picker holds, [x, y] in hundredths, or null.
    point: pointOf,
    set,
  };

  const pickerOf = (target) => (target instanceof Element ? target.closest("[data-s3media-focus]") : null);

  document.addEventListener("pointerdown", (event) => {
    const frame = event.target instanceof Element ? event.target.closest("[data-s3media-focus-frame]") : null;
    if (!frame || event.button !== 0) return;
    const image = frame.querySelector("[data-s3media-focus-image]");
    const box = image.getBoundingClientRect();
    if (!box.width || !box.height) return;
    event.preventDefault(); // no drag of the picture, no text selection
    frame.focus();
    const x = clamp(Math.round(((event.clientX - box.left) / box.width) * STEPS));
    const y = clamp(Math.round(((event.clientY - box.top) / box.height) * STEPS));
    set(pickerOf(frame), [x, y]);
  });

  const MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  document.addEventListener("keydown", (event) => {
    const frame = event.target instanceof Element ? event.target.closest("[data-s3media-focus-frame]") : null;
    if (!frame) return;
    const picker = pickerOf(frame);
    if (event.key === "Escape") {
      if (!pointOf(picker)) return; // nothing to take away: let Escape do what else it does
      event.preventDefault();
      set(picker, null);
      return;
    }
    const move = MOVES[event.key];
    if (!move || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    const step = event.shiftKey ? 1 : 5;
    const [x, y] = pointOf(picker) || [STEPS / 2, STEPS / 2];
    set(picker, [clamp(x + move[0] * step), clamp(y + move[1] * step)]);
  });

  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-s3media-focus-reset]") : null;
    const picker = pickerOf(button);
    if (!picker) return;
    set(picker, null);
    picker.querySelector("[data-s3media-focus-frame]").focus();
  });

  // A picture loaded (or the previews' boxes laid out): place the marker and the previews.
  document.addEventListener(
    "load",
    (event) => {
      const picker = event.target instanceof HTMLImageElement ? pickerOf(event.target) : null;
      if (picker) show(picker);
    },
    true,
  );
  for (const picker of document.querySelectorAll("[data-s3media-focus]")) show(picker);
}
