/**
 * The part of mvdan-sh (mvdan/sh's Go shell parser compiled to JavaScript with GopherJS)
 * Warden uses. The package ships no types; nodes are Go structs seen from JavaScript, so
 * the analyzer reads them through these narrow shapes and checks every node's type with
 * `syntax.NodeType` before use.
 */
declare module 'mvdan-sh' {
  export interface ShPos {
    Offset(): number;
    Line(): number;
    Col(): number;
  }
  export interface ShNode {
    Pos(): ShPos;
    End(): ShPos;
  }
  export interface ShParser {
    Parse(src: string, name: string): ShNode;
  }
  export const syntax: {
    NewParser(...options: unknown[]): ShParser;
    NodeType(node: unknown): string;
    Walk(node: ShNode, visit: (node: ShNode | null) => boolean): void;
  };
}
