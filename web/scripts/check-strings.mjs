// Fails when a component writes user-visible text itself instead of taking it from the message catalog
// (src/i18n/en.ts): JSX text, or a literal string in a text attribute (aria-label, title, placeholder, alt).
// Symbols without letters (arrows, dashes, separators) are fine.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

const ROOT = new URL("../src/", import.meta.url).pathname;
const SKIP = new Set(["gql", "graphiql", "i18n"]);
const TEXT_ATTRIBUTES = new Set(["aria-label", "title", "placeholder", "alt", "label", "aria-description"]);
const LETTER = /\p{L}/u;

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return SKIP.has(entry.name) ? [] : files(join(dir, entry.name));
    return entry.name.endsWith(".tsx") ? [join(dir, entry.name)] : [];
  });
}

const problems = [];
for (const file of files(ROOT)) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const report = (node, text) => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart());
    problems.push(`${relative(process.cwd(), file)}:${line + 1}: ${JSON.stringify(text.trim().slice(0, 60))}`);
  };
  const visit = (node) => {
    if (ts.isJsxText(node) && LETTER.test(node.text)) report(node, node.text);
    if (ts.isJsxAttribute(node) && TEXT_ATTRIBUTES.has(node.name.getText()) && node.initializer) {
      const value = node.initializer;
      const literal = ts.isStringLiteral(value) ? value : ts.isJsxExpression(value) && value.expression && ts.isStringLiteral(value.expression) ? value.expression : null;
      if (literal && LETTER.test(literal.text)) report(node, literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

if (problems.length) {
  console.error(`Text written into components (put it in src/i18n/en.ts and use t()):\n${problems.join("\n")}`);
  process.exit(1);
}
console.log(`check-strings: ${files(ROOT).length} components take every text from the message catalog`);
