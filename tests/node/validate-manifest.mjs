#!/usr/bin/env node
// Validate a Teams app package (or a bare manifest.json) against the schema its "$schema" names,
// using the schemas bundled in @microsoft/app-manifest. Never touches the network.
//
//   node tests/node/validate-manifest.mjs var/manifest.zip
//   node tests/node/validate-manifest.mjs path/to/manifest.json   (icons are looked up next to it)
//
// Prints one problem per line on stderr and exits 1 if there is any; exits 2 on bad usage.
// Besides the schema it checks what the schema cannot: that the icons the manifest names exist,
// are PNGs and have the sizes Teams insists on. (The package has no icon checks of its own.)

import { promises as fsp, readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import zlib from "node:zlib";

const require = createRequire(import.meta.url);
const { AppManifestUtils } = loadAppManifest();

/** Load @microsoft/app-manifest, standing in for its undeclared fs-extra dependency if needed. */
function loadAppManifest() {
  const packageDir = dirname(require.resolve("@microsoft/app-manifest/package.json"));
  try {
    require.resolve("fs-extra", { paths: [packageDir] });
  } catch {
    installFsExtraStandIn();
  }
  return require("@microsoft/app-manifest");
}

// @microsoft/app-manifest 1.1.2 (the latest release) requires fs-extra at run time but lists it
// only under devDependencies, so `npm ci` does not install it and the package fails to load.
// The proper fix is "fs-extra" in package.json's devDependencies; until then this stand-in
// provides the five functions the package calls, on top of node:fs.
function installFsExtraStandIn() {
  const id = "fs-extra (stand-in from validate-manifest.mjs)";
  const standIn = new Module(id);
  standIn.exports = {
    pathExists: (path) => fsp.access(path).then(() => true, () => false),
    readFile: fsp.readFile,
    readFileSync,
    writeFile: fsp.writeFile,
    writeJson: (path, value, options) =>
      fsp.writeFile(path, `${JSON.stringify(value, null, options?.spaces)}\n`),
  };
  standIn.loaded = true;
  Module._cache[id] = standIn;
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function resolveFsExtra(request, ...rest) {
    return request === "fs-extra" ? id : resolve.call(this, request, ...rest);
  };
}

// AppManifestUtils.fetchSchema reads a bundled schema when it has one and silently downloads
// otherwise. Disabling fetch turns "this schema is not bundled" into an error instead of a
// network call, so a pass here is always an offline pass.
globalThis.fetch = async (url) => {
  throw new Error(`network access is disabled in this validator (wanted ${url})`);
};

const ICON_SIZES = { color: 192, outline: 32, color32x32: 32 };
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Read every file of a zip archive into a Map(name -> Buffer); stored and deflated only. */
function readZip(buffer) {
  const eocd = findEndOfCentralDirectory(buffer);
  const count = buffer.readUInt16LE(eocd + 10);
  let offset = buffer.readUInt32LE(eocd + 16);
  const files = new Map();
  for (let i = 0; i < count; i += 1) {
    if (buffer.readUInt32LE(offset) !== 0x02014b50) {
      throw new Error("corrupt zip: bad central directory entry");
    }
    const flags = buffer.readUInt16LE(offset + 8);
    const method = buffer.readUInt16LE(offset + 10);
    const crc = buffer.readUInt32LE(offset + 16);
    const compressedSize = buffer.readUInt32LE(offset + 20);
    const nameLength = buffer.readUInt16LE(offset + 28);
    const extraLength = buffer.readUInt16LE(offset + 30);
    const commentLength = buffer.readUInt16LE(offset + 32);
    const localOffset = buffer.readUInt32LE(offset + 42);
    const name = buffer.toString("utf8", offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith("/")) continue;
    if (flags & 1) throw new Error(`${name}: encrypted zip entries are not supported`);
    const data = readEntry(buffer, localOffset, method, compressedSize, name);
    if (typeof zlib.crc32 === "function" && zlib.crc32(data) !== crc) {
      throw new Error(`${name}: CRC mismatch, the zip is corrupt`);
    }
    files.set(name, data);
  }
  return files;
}

function findEndOfCentralDirectory(buffer) {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const stop = Math.max(0, buffer.length - 22 - 0xffff);
  for (let at = buffer.length - 22; at >= stop; at -= 1) {
    if (buffer.readUInt32LE(at) === 0x06054b50) return at;
  }
  throw new Error("not a zip file (no end of central directory record)");
}

function readEntry(buffer, localOffset, method, compressedSize, name) {
  if (buffer.readUInt32LE(localOffset) !== 0x04034b50) {
    throw new Error(`${name}: corrupt zip, bad local header`);
  }
  const start =
    localOffset + 30 + buffer.readUInt16LE(localOffset + 26) + buffer.readUInt16LE(localOffset + 28);
  const raw = buffer.subarray(start, start + compressedSize);
  if (method === 0) return raw;
  if (method === 8) return zlib.inflateRawSync(raw);
  throw new Error(`${name}: unsupported zip compression method ${method}`);
}

/** Where the manifest and its icons come from: a package zip or a directory on disk. */
function openPackage(path) {
  if (path.toLowerCase().endsWith(".json")) {
    const base = dirname(path);
    return {
      manifestBytes: readFileSync(path),
      read: (name) => {
        try {
          return readFileSync(join(base, name));
        } catch {
          return undefined;
        }
      },
    };
  }
  const files = readZip(readFileSync(path));
  const manifestBytes = files.get("manifest.json");
  if (manifestBytes === undefined) {
    const names = [...files.keys()].join(", ") || "nothing";
    throw new Error(`manifest.json is not at the root of the zip (found: ${names})`);
  }
  return { manifestBytes, read: (name) => files.get(name) };
}

async function schemaErrors(manifest) {
  if (typeof manifest.$schema !== "string") {
    return ["/$schema is missing, so there is no schema to validate against"];
  }
  // fetchSchema maps developer.microsoft.com schema URLs onto the package's bundled copies.
  const schema = await AppManifestUtils.fetchSchema(manifest.$schema);
  return AppManifestUtils.validateAgainstSchema(manifest, schema);
}

function iconErrors(manifest, read) {
  const errors = [];
  for (const [kind, expected] of Object.entries(ICON_SIZES)) {
    const name = manifest.icons?.[kind];
    if (typeof name !== "string") continue; // a missing required icon is a schema error
    const data = read(name);
    if (data === undefined) {
      errors.push(`/icons/${kind}: ${name} is not in the package`);
    } else if (data.length < 24 || !data.subarray(0, 8).equals(PNG_SIGNATURE)) {
      errors.push(`/icons/${kind}: ${name} is not a PNG file`);
    } else {
      // IHDR is always the first chunk: width and height are at bytes 16 and 20.
      const width = data.readUInt32BE(16);
      const height = data.readUInt32BE(20);
      if (width !== expected || height !== expected) {
        errors.push(`/icons/${kind}: ${name} is ${width}x${height}, Teams needs ${expected}x${expected}`);
      }
    }
  }
  return errors;
}

async function validate(path) {
  const pkg = openPackage(path);
  const manifest = JSON.parse(pkg.manifestBytes.toString("utf8"));
  const errors = [...(await schemaErrors(manifest)), ...iconErrors(manifest, pkg.read)];
  return { manifest, errors };
}

async function main(argv) {
  if (argv.length !== 1) {
    process.stderr.write("usage: validate-manifest.mjs <app-package.zip | manifest.json>\n");
    return 2;
  }
  const [path] = argv;
  let result;
  try {
    result = await validate(path);
  } catch (error) {
    process.stderr.write(`${path}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  if (result.errors.length > 0) {
    for (const error of result.errors) process.stderr.write(`${path}: ${error}\n`);
    return 1;
  }
  process.stdout.write(`${path}: valid Teams manifest v${result.manifest.manifestVersion}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
