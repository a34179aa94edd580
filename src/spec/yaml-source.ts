/**
 * YAML parsing that remembers where every value came from, so an error about a field path can
 * point at the line and column a person has to edit.
 */
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from "yaml";
import { pathToString, type SpecIssue } from "./errors.js";

export interface SourceDocument {
  file: string;
  /** The document's data as plain JavaScript. */
  data: unknown;
  /** Index of the document in its file, from 0. */
  index: number;
  /** Line and column of a field path; the nearest existing ancestor when the field is absent. */
  locate(path: readonly PropertyKey[], at?: "key" | "value"): { line: number; column: number };
}

export function parseYamlFile(file: string, text: string): { documents: SourceDocument[]; issues: SpecIssue[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const issues: SpecIssue[] = [];
  const documents: SourceDocument[] = [];
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (!Array.isArray(parsed)) return { documents, issues };
  parsed.forEach((doc: Document.Parsed, index) => {
    for (const error of doc.errors) {
      const { line, column } = position(error.pos[0]);
      issues.push({ file, line, column, path: "", message: `invalid YAML: ${firstLine(error.message)}`, severity: "error" });
    }
    if (doc.errors.length > 0 || doc.contents === null) return;
    documents.push({
      file,
      index,
      data: doc.toJS({ maxAliasCount: 100 }),
      locate: (path, at = "value") => position(offsetOf(doc.contents as Node, path, at)),
    });
  });
  return { documents, issues };
}

function offsetOf(root: Node, path: readonly PropertyKey[], at: "key" | "value"): number {
  let node: Node = root;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) return node.range?.[0] ?? 0;
      if (last && at === "key" && isScalar(pair.key)) return pair.key.range?.[0] ?? 0;
      if (!pair.value) return (pair.key as Node).range?.[0] ?? 0;
      node = pair.value as Node;
    } else if (isSeq(node) && typeof segment === "number" && node.items[segment]) {
      node = node.items[segment] as Node;
    } else {
      return node.range?.[0] ?? 0;
    }
  }
  return node.range?.[0] ?? 0;
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

/** An issue at a field path of a source document. */
export function issueAt(
  doc: SourceDocument,
  path: readonly PropertyKey[],
  message: string,
  options: { at?: "key" | "value"; severity?: "error" | "warning" } = {},
): SpecIssue {
  const { line, column } = doc.locate(path, options.at);
  return { file: doc.file, line, column, path: pathToString(path), message, severity: options.severity ?? "error" };
}
