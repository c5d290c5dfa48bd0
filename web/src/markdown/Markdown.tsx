// Markdown rendered inert: markdown-it with raw HTML disabled parses it, and its tokens become React elements
// from an allow-list of tags (no innerHTML anywhere, so the CSP's Trusted Types never need a policy). Links
// keep http(s) and mailto targets only; images show their alt text (course materials never fetch anything).
// Citation markers such as [2] become buttons that open the cited source.
import MarkdownIt from "markdown-it";
import type Token from "markdown-it/lib/token.mjs";
import { Fragment, createElement, useMemo, type ReactNode } from "react";

const parser = new MarkdownIt({ html: false, linkify: false, typographer: false });

const BLOCK_TAGS = new Set([
  "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote",
  "table", "thead", "tbody", "tr", "th", "td", "strong", "em", "s",
]);
const SAFE_LINK = /^(https?:|mailto:)/i;
const CITATION = /\[(\d{1,3})\]/g;

export interface MarkdownProps {
  source: string;
  /** Renders citation marker n (1-based), or null to leave the marker as text. */
  renderCitation?: (n: number, key: string) => ReactNode | null;
  /** Prefix of heading ids (headings get ids for in-page links and the source viewer). */
  headingIdPrefix?: string;
}

export function slug(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-|-$/g, "").slice(0, 80);
}

interface Node {
  token: Token | null;
  children: (Node | Token)[];
}

/** Block tokens as a tree: opening tokens (nesting 1) hold what comes before their closing token. */
function tree(tokens: Token[]): Node {
  const root: Node = { token: null, children: [] };
  const stack = [root];
  for (const token of tokens) {
    const top = stack[stack.length - 1]!;
    if (token.nesting === 1) {
      const node: Node = { token, children: [] };
      top.children.push(node);
      stack.push(node);
    } else if (token.nesting === -1) {
      if (stack.length > 1) stack.pop();
    } else {
      top.children.push(token);
    }
  }
  return root;
}

function isNode(item: Node | Token): item is Node {
  return "token" in item;
}

function textOf(tokens: Token[] | null): string {
  return (tokens ?? []).map((t) => (t.children ? textOf(t.children) : t.content)).join("");
}

export function Markdown({ source, renderCitation, headingIdPrefix = "h-" }: MarkdownProps) {
  const rendered = useMemo(() => {
    const tokens = parser.parse(source, {});
    let key = 0;
    const next = () => `m${key++}`;

    const text = (content: string): ReactNode => {
      if (!renderCitation || !content.includes("[")) return content;
      const parts: ReactNode[] = [];
      let last = 0;
      for (const match of content.matchAll(CITATION)) {
        const chip = renderCitation(Number(match[1]), next());
        if (chip === null) continue;
        parts.push(content.slice(last, match.index), chip);
        last = match.index + match[0].length;
      }
      parts.push(content.slice(last));
      return parts.length === 1 ? content : createElement(Fragment, { key: next() }, ...parts);
    };

    const inline = (tokens: Token[]): ReactNode[] => {
      const out: ReactNode[] = [];
      for (const node of tree(tokens).children) out.push(renderInline(node));
      return out;
    };

    const renderInline = (node: Node | Token): ReactNode => {
      if (!isNode(node)) {
        const token = node;
        switch (token.type) {
          case "text":
            return text(token.content);
          case "code_inline":
            return <code key={next()}>{token.content}</code>;
          case "softbreak":
            return "\n";
          case "hardbreak":
            return <br key={next()} />;
          case "image":
            return textOf(token.children) || token.content;
          default:
            return token.content;
        }
      }
      const open = node.token!;
      const children = node.children.map(renderInline);
      if (open.type === "link_open") {
        const href = open.attrGet("href") ?? "";
        if (!SAFE_LINK.test(href)) return <Fragment key={next()}>{children}</Fragment>;
        return (
          <a key={next()} href={href} target="_blank" rel="noopener noreferrer nofollow">
            {children}
          </a>
        );
      }
      const tag = BLOCK_TAGS.has(open.tag) ? open.tag : "span";
      return createElement(tag, { key: next() }, ...children);
    };

    const block = (node: Node | Token): ReactNode => {
      if (!isNode(node)) {
        const token = node;
        switch (token.type) {
          case "inline":
            return <Fragment key={next()}>{inline(token.children ?? [])}</Fragment>;
          case "fence":
          case "code_block":
            return (
              <pre key={next()}>
                <code>{token.content}</code>
              </pre>
            );
          case "hr":
            return <hr key={next()} />;
          default:
            return token.content ? <p key={next()}>{token.content}</p> : null;
        }
      }
      const open = node.token!;
      const children = node.children.map(block);
      if (!BLOCK_TAGS.has(open.tag)) return <Fragment key={next()}>{children}</Fragment>;
      const props: Record<string, string | number> = { key: next() };
      if (/^h[1-6]$/.test(open.tag)) {
        const heading = node.children.find((c): c is Token => !isNode(c) && c.type === "inline");
        props.id = headingIdPrefix + slug(textOf(heading?.children ?? []));
      }
      const start = open.attrGet("start");
      if (open.tag === "ol" && start && /^\d+$/.test(start)) props.start = Number(start);
      return createElement(open.tag, props, ...children);
    };

    return tree(tokens).children.map(block);
  }, [source, renderCitation, headingIdPrefix]);

  return <>{rendered}</>;
}
