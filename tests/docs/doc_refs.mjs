// Every reference a source comment or a Markdown document makes to a document must lead
// somewhere (code quoted in Markdown is an example, not a reference): a cited
// docs/<file>.md (or another .md of the repository, such as receipts/README.md) exists, a cited
// `§N` / `§N.M` / `check N` is a numbered heading or check of that file, and a quoted section
// ("What a jail may see") is one of its headings. Comments cite the project's own docs only: a
// path into ../shared or /work/shared, or a bare formats.md / jail.md / cli.md (the upstream
// spec's names), is an error. And every relative link between the repository's Markdown files
// leads to a file, and its anchor to a heading. Usage: node doc_refs.mjs SOURCE_DIR
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const root = process.argv[2];
if (!root) throw new Error("usage: node doc_refs.mjs SOURCE_DIR");

const SOURCE = /\.(cc|h|sh|js|mjs|cmake|md)$|^CMakeLists\.txt$/;
const SKIP_DIRS = new Set([".git", "node_modules", "data", "overlay"]);
const SELF = "tests/docs/";  // this checker names what it refuses

function* files(dir) {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name) || name.startsWith("build")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (SOURCE.test(name)) yield path;
  }
}

// A document's headings, without their "§N." / "N." numbers, and the numbers themselves.
const docs = new Map();
function doc(path) {
  if (docs.has(path)) return docs.get(path);
  const d = { titles: [], numbers: new Set(), checks: new Map() };
  let section = null;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const h = /^#{1,6}\s+(?:§?(\d+(?:\.\d+)*)\.?\s+)?(.*?)\s*$/.exec(line);
    if (h) {
      if (h[1]) { d.numbers.add(h[1]); section = h[1].split(".")[0]; }
      d.titles.push(h[2]);
      continue;
    }
    // Numbered checks of a section: "1. **…**" list items, or "| 1 | …" table rows.
    const c = /^(?:(\d+)\.\s|\|\s*(\d+)\s*\|)/.exec(line);
    if (c && section) {
      if (!d.checks.has(section)) d.checks.set(section, new Set());
      d.checks.get(section).add(c[1] ?? c[2]);
    }
  }
  docs.set(path, d);
  return d;
}

// "Limits" cites "Limits: where …", and "What the service may do" cites "… may do, and why".
const titled = (d, name) => d.titles.some((t) => t === name || t.startsWith(name + ":") || t.startsWith(name + ","));

// Comment text of a file, joined into one string per comment block, with its first line number.
function comments(text) {
  const blocks = [];
  let cur = null;
  text.split("\n").forEach((line, i) => {
    const m = /(?:^|\s)(?:\/\/|#)\s?(.*)$/.exec(line) ?? /^\s*\*\s?(.*)$/.exec(line) ?? /\/\*\s?(.*?)(?:\*\/|$)/.exec(line);
    if (m) {
      if (!cur) blocks.push((cur = { line: i + 1, text: "" }));
      cur.text += " " + m[1].trim();
    } else cur = null;
  });
  return blocks;
}

const errors = [];
let cited = 0;
for (const file of files(root)) {
  const rel = relative(root, file);
  if (rel.startsWith(SELF)) continue;
  const text = readFileSync(file, "utf8");
  // A Markdown document is prose throughout: each paragraph is one block.
  const blocks = file.endsWith(".md")
    ? text.split(/\n\s*\n/).map((p, i, all) => ({
        line: all.slice(0, i).join("\n\n").split("\n").length + (i ? 1 : 0),
        text: p.replace(/`[^`]*`/g, "`…`"),  // code quotes examples, not references
      }))
    : comments(text);
  for (const { line, text: raw } of blocks) {
    const text = raw.replace(/\s+/g, " ");
    const where = `${rel}:${line}`;
    if (/(\.\.\/|\/work\/)shared\b/.test(text) && !rel.startsWith("tests/claw/"))
      errors.push(`${where}: cites the upstream material outside the repository: ${text.trim()}`);
    for (const m of text.matchAll(/(?<![\w./-])((?:[\w-]+\/)*[\w-]+\.md)\b((?:[,:]?\s*(?:§\s?[\d.]+[a-z]?(?:\s*(?:-|–|and|,)\s*§?[\d.]+)*|"[^"]+"|checks?\s+\d+(?:\s*(?:-|–|,|and)\s*\d+)*(?:'s)?))*)/g)) {
      const [, name, tail] = m;
      cited++;
      if (["formats.md", "jail.md", "cli.md"].includes(name)) {
        errors.push(`${where}: cites ${name}: name the project's own docs/${name}`);
        continue;
      }
      // From the repository's root, or (a document citing its neighbour) from the file's own directory.
      const path = [join(root, name), join(dirname(file), name)].find(existsSync) ?? join(root, name);
      if (!existsSync(path)) {
        if (!/^[A-Z]/.test(name) || name.includes("/")) errors.push(`${where}: cites ${name}, which does not exist`);
        continue;
      }
      const d = doc(path);
      for (const q of tail.matchAll(/"([^"]+)"/g))
        if (!titled(d, q[1])) errors.push(`${where}: ${name} has no section "${q[1]}"`);
      let section = null;
      for (const s of tail.matchAll(/§\s?(\d+(?:\.\d+)*)|(?:-|–)\s*§?(\d+(?:\.\d+)*)|checks?\s+(\d+(?:\s*(?:-|–|,|and)\s*\d+)*)/g)) {
        if (s[1] || s[2]) {
          section = s[1] ?? s[2];
          if (!d.numbers.has(section)) errors.push(`${where}: ${name} has no §${section}`);
        } else if (section) {
          const have = d.checks.get(section.split(".")[0]) ?? new Set();
          for (const n of s[3].match(/\d+/g) ?? [])
            if (!have.has(n)) errors.push(`${where}: ${name} §${section} has no check ${n}`);
        }
      }
    }
  }
}
// The links between the documents: a relative target exists, and an anchor is the GitHub slug
// of one of its headings.
const slug = (t) => t.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
function* markdown(dir) {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name) || name.startsWith("build") || name === "tests") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* markdown(path);
    else if (name.endsWith(".md")) yield path;
  }
}
let links = 0;
for (const file of markdown(root)) {
  const rel = relative(root, file);
  readFileSync(file, "utf8").split("\n").forEach((line, i) => {
    for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      links++;
      const [path, anchor] = target.split("#");
      const to = path ? join(dirname(file), path) : file;
      if (!existsSync(to)) {
        errors.push(`${rel}:${i + 1}: links to ${path}, which does not exist`);
        continue;
      }
      if (anchor && to.endsWith(".md")) {
        const headings = readFileSync(to, "utf8").split("\n").filter((l) => /^#{1,6}\s/.test(l));
        if (!headings.some((h) => slug(h.replace(/^#+\s+/, "").trim()) === anchor))
          errors.push(`${rel}:${i + 1}: ${path || rel} has no heading #${anchor}`);
      }
    }
  });
}

if (errors.length) {
  console.error(errors.join("\n"));
  console.error(`${errors.length} broken reference(s)`);
  process.exit(1);
}
console.log(`${cited} references to documents in source comments and ${links} links between documents, all found`);
