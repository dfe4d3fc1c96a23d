export declare const bundleEntry: string;
export declare function bundleIsFresh(): boolean;
export declare function newestMtime(path: string): number;
