// Types of typescript-mirror.mjs (plain JavaScript: run-typescript.mjs loads it before anything is compiled).
export declare const MIRROR_PATTERN: RegExp;
export declare function mirrorPathOf(file: string): string;
export declare function mirrorTypeScript(entries: string[]): Promise<string[]>;
export declare function syncTypeScriptMirror(): Promise<void>;
