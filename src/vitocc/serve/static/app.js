// The page of `vitocc serve`: upload a picture, show what the model saw, the mesh and its downloads.
// Hand-written for this project; the 3D view is trimesh's viewer page, served by the server in an iframe.
"use strict";

const $ = (id) => document.getElementById(id);
let lastFile = null;

function setStatus(text) { $("status").textContent = text; }

function showError(message) {
  $("error").textContent = message ? "error: " + message : "";
  $("error").hidden = !message;
}

async function loadDefaults() {
  const answer = await fetch("/api/settings");
  const defaults = await answer.json();
  for (const key of ["threshold", "resolution", "upsampling"]) $(key).value = defaults.settings[key];
  for (const key of ["crop", "cut_background", "colour"]) $(key).checked = defaults.settings[key];
}

async function reconstruct(file) {
  lastFile = file;
  $("again").disabled = false;
  showError("");
  setStatus("Reconstructing " + file.name + " ...");
  document.body.dataset.state = "busy";
  const query = new URLSearchParams({
    name: file.name, threshold: $("threshold").value, resolution: $("resolution").value,
    upsampling: $("upsampling").value, crop: $("crop").checked ? "1" : "0",
    cut_background: $("cut_background").checked ? "1" : "0", colour: $("colour").checked ? "1" : "0",
  });
  // A mask travels in the same request, after the picture: the server splits the body at mask_size.
  const mask = $("mask").files.length ? $("mask").files[0] : null;
  if (mask) { query.set("mask_name", mask.name); query.set("mask_size", mask.size); }
  let answer, payload;
  try {
    answer = await fetch("/api/reconstruct?" + query, {
      method: "POST", body: mask ? new Blob([file, mask]) : file,
      headers: { "Content-Type": mask ? "application/octet-stream" : file.type || "application/octet-stream" },
    });
    payload = await answer.json();
  } catch (exc) {
    payload = { error: "the server did not answer (" + exc.message + ")" };
  }
  if (!answer || !answer.ok || payload.error) {
    setStatus("");
    showError(payload.error);
    document.body.dataset.state = "error";
    return;
  }
  showResult(payload);
}

function showResult(result) {
  const s = result.settings;
  $("result").hidden = false;
  $("picture").src = result.picture;
  $("used").textContent = `${result.name}: threshold ${s.threshold}, resolution ${s.resolution}, ` +
    `upsampling ${s.upsampling}, ${s.crop ? "cropped" : "whole frame"}, ` +
    `${result.mask ? "mask " + result.mask : s.cut_background ? "background cut" : "background kept"}, ` +
    `${s.colour ? "coloured" : "grey"}`;
  $("warnings").replaceChildren(...result.warnings.map((w) => Object.assign(document.createElement("li"), { textContent: w })));
  $("info").textContent = result.faces
    ? `${result.vertices} vertices, ${result.faces} faces, watertight ${result.watertight ? "yes" : "no"}, ` +
      `${result.seconds.toFixed(2)} s`
    : "The mesh is empty: nothing is above the threshold. Lower the threshold and reconstruct again.";
  $("downloads").replaceChildren(...Object.entries(result.downloads).map(([format, url]) => {
    const link = Object.assign(document.createElement("a"), { href: url, textContent: "Download " + format.toUpperCase() });
    link.dataset.format = format;
    link.download = "";
    return link;
  }));
  const viewer = $("viewer");
  viewer.hidden = !result.view;
  viewer.onload = () => { document.body.dataset.state = "ready"; };
  if (result.view) viewer.src = result.view; else document.body.dataset.state = "ready";
  setStatus("Done: " + result.name);
}

$("file").addEventListener("change", () => { if ($("file").files.length) reconstruct($("file").files[0]); });
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  if (event.dataTransfer.files.length) reconstruct(event.dataTransfer.files[0]);
});
$("nomask").addEventListener("click", () => { $("mask").value = ""; });
$("settings").addEventListener("submit", (event) => {
  event.preventDefault();
  if (lastFile) reconstruct(lastFile);
});
loadDefaults().then(() => { document.body.dataset.state = "idle"; });
