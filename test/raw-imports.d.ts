/** Vite's `?raw` imports (used to read docs/ in tests): the file's text. */
declare module '*.md?raw' {
  const text: string;
  export default text;
}
