// Types of serve.mjs for the TypeScript callers (demo-web.ts, the browser test).
export function startServer(opts: { model: string; sample?: string; port?: number }): Promise<{ url: string; close(): Promise<void> }>;
export const CHROMIUM_FLAGS: string[];
