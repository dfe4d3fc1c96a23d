export declare const bundleEntry: string;
export declare function bundleIsFresh(): boolean;
