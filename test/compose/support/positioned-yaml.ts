// Test support: parse inline YAML into a plain document with the entry positions the
// real parse stage records, so normalize and later stages can be tested with the
// positions their problems should carry, without depending on the parse stage itself.

import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { setContainerPosition, setEntryPosition } from '../../../src/compose/positions.js';
import type { SourcePosition } from '../../../src/common/errors.js';

export function positionedYaml(text: string, file = 'compose.yaml'): Record<string, unknown> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('\n'));
  const at = (offset: number): SourcePosition => {
    const { line, col } = lines.linePos(offset);
    return { file, line, col };
  };
  const convert = (node: unknown): unknown => {
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      if (node.range) setContainerPosition(out, at(node.range[0]));
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode;
        const key = String(isScalar(keyNode) ? keyNode.value : keyNode);
        out[key] = convert(pair.value);
        const valueNode = pair.value as YamlNode | null;
        const keyPos = at(keyNode.range![0]);
        setEntryPosition(out, key, { key: keyPos, value: valueNode?.range ? at(valueNode.range[0]) : keyPos });
      }
      return out;
    }
    if (isSeq(node)) {
      const out: unknown[] = [];
      if (node.range) setContainerPosition(out, at(node.range[0]));
      node.items.forEach((item, i) => {
        out.push(convert(item));
        const range = (item as YamlNode).range;
        if (range) setEntryPosition(out, i, { value: at(range[0]) });
      });
      return out;
    }
    if (isScalar(node)) return node.value;
    return null;
  };
  return convert(doc.contents) as Record<string, unknown>;
}
