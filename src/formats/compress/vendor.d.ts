// Types for the untyped decoders we use, limited to what we call.

declare module 'seek-bzip' {
  namespace Bunzip {
    interface InputStream {
      readByte(): number;
      read(buffer: Uint8Array, offset: number, length: number): number;
    }
    interface OutputStream {
      writeByte(byte: number): void;
    }
    /** Base class with default read/write built on readByte/writeByte. */
    class Stream implements InputStream, OutputStream {
      readByte(): number;
      read(buffer: Uint8Array, offset: number, length: number): number;
      writeByte(byte: number): void;
    }
    /** Decodes one bzip2 stream from `input` into `output`; throws TypeError on corrupt data. */
    function decode(input: InputStream, output: OutputStream, multistream?: boolean): void;
  }
  export = Bunzip;
}

declare module 'lz4js/xxh32.js' {
  /** XXH32 of `src[index .. index+length)`. */
  export function hash(seed: number, src: Uint8Array, index: number, length: number): number;
}
