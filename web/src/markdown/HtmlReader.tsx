// An HTML course file shown as a reading view. The browser never parses it: a small tokenizer reads tags and
// text, the text-structure tags on an allow-list become React elements, and everything else is dropped
// (script, style and other raw-text elements with their content; attributes, except a link's http(s) or
// mailto target). The portal's output is React text, so a malformed file can only ever look garbled.
import { createElement, type ReactNode } from "react";
import { slug } from "./Markdown";

const KEPT = new Set([
  "h1", "h2", "h3", "h4", "h5", "h6", "p", "div", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote",
  "table", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd", "br", "hr", "sub", "sup", "a",
]);
const RENAMED: Record<string, string> = {
  b: "strong", i: "em", section: "div", article: "div", main: "div", header: "div", footer: "div", aside: "div",
  figure: "div", figcaption: "p", caption: "p",
};
// Elements whose content is not text for the reader: skipped up to their closing tag.
const SKIPPED = new Set(["script", "style", "template", "noscript", "iframe", "object", "svg", "math", "textarea", "title", "xmp", "select", "head"]);
const VOID = new Set(["br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr", "param"]);
const SAFE_LINK = /^(https?:|mailto:)/i;
const TOKEN = /<!--[\s\S]*?(?:-->|$)|<![^>]*>|<\?[^>]*>|<\/?([A-Za-z][A-Za-z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|[^<]+|</g;
const HREF = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", ndash: "–", mdash: "—", hellip: "…", laquo: "«", raquo: "»", rsquo: "’", lsquo: "‘", rdquo: "”", ldquo: "“", times: "×", middot: "·", deg: "°", copy: "©" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

interface Node {
  tag: string;
  href?: string;
  children: (Node | string)[];
}

function textOf(node: Node): string {
  return node.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}

/** The file's structure, from its tags and text only. */
export function readHtml(html: string): Node {
  const root: Node = { tag: "root", children: [] };
  const stack: Node[] = [root];
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(html); match; match = TOKEN.exec(html)) {
    const [token, rawName, attributes = ""] = match;
    const top = stack[stack.length - 1]!;
    if (!rawName) {
      if (token[0] !== "<" || token === "<") top.children.push(decode(token)); // text (a lone "<" too)
      continue;
    }
    const name = rawName.toLowerCase();
    if (token[1] === "/") {
      const tag = RENAMED[name] ?? name;
      const open = stack.map((n) => n.tag).lastIndexOf(tag);
      if (open > 0) stack.length = open;
      continue;
    }
    if (SKIPPED.has(name)) {
      const close = html.toLowerCase().indexOf(`</${name}`, TOKEN.lastIndex);
      TOKEN.lastIndex = close < 0 ? html.length : close;
      continue;
    }
    const tag = RENAMED[name] ?? name;
    if (!KEPT.has(tag)) continue; // the element goes, its text stays
    const node: Node = { tag, children: [] };
    if (tag === "a") {
      const href = HREF.exec(attributes);
      const target = decode(href?.[1] ?? href?.[2] ?? href?.[3] ?? "").trim();
      if (SAFE_LINK.test(target)) node.href = target;
    }
    top.children.push(node);
    if (!VOID.has(name) && tag !== "br" && tag !== "hr" && !attributes.trimEnd().endsWith("/")) stack.push(node);
  }
  return root;
}

function render(node: Node | string, key: string, headingIdPrefix: string): ReactNode {
  if (typeof node === "string") return node;
  const children = node.children.map((child, i) => render(child, `${key}.${i}`, headingIdPrefix));
  if (node.tag === "br" || node.tag === "hr") return createElement(node.tag, { key });
  if (node.tag === "a") {
    return node.href
      ? createElement("a", { key, href: node.href, target: "_blank", rel: "noopener noreferrer nofollow" }, ...children)
      : createElement("span", { key }, ...children);
  }
  const props: Record<string, string> = { key };
  if (/^h[1-6]$/.test(node.tag)) props.id = headingIdPrefix + slug(textOf(node));
  return createElement(node.tag, props, ...children);
}

export function HtmlReader({ html, headingIdPrefix }: { html: string; headingIdPrefix: string }) {
  return <>{readHtml(html).children.map((child, i) => render(child, `n${i}`, headingIdPrefix))}</>;
}
