using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>
/// Bytes from the environment as text without losing any: valid UTF-8 decodes as usual, and each byte that is not
/// part of valid UTF-8 becomes the lone surrogate U+DC80..U+DCFF (as Python's surrogateescape), which valid UTF-8
/// never decodes to, so <see cref="Encode"/> gives back exactly the bytes <see cref="Decode"/> was given. Workbench
/// passes RSTUDIO_NODES as bytes and matches the balancer's answer byte for byte: a lossy decoding (U+FFFD) would
/// print an entry it never gave.
/// </summary>
public static class RawText
{
    private const char EscapeBase = '\uDC00';

    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out var used) == OperationStatus.Done)
            {
                text.Append(rune.ToString());
                bytes = bytes[used..];
            }
            else
            {
                text.Append((char)(EscapeBase + bytes[0])); // always >= 0x80: ASCII bytes always decode
                bytes = bytes[1..];
            }
        }
        return text.ToString();
    }

    public static byte[] Encode(string text)
    {
        var bytes = new List<byte>(text.Length);
        Span<byte> buffer = stackalloc byte[4];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            // Decode never writes a lone high surrogate, so such a low one is never half of a pair.
            if (c is >= '\uDC80' and <= '\uDCFF')
            {
                bytes.Add((byte)(c - EscapeBase));
                continue;
            }
            // Anything else that is not a valid scalar (another lone surrogate) is written as U+FFFD, as UTF-8 does.
            if (!Rune.TryGetRuneAt(text, i, out var rune)) rune = Rune.ReplacementChar;
            var n = rune.EncodeToUtf8(buffer);
            for (var j = 0; j < n; j++) bytes.Add(buffer[j]);
            i += rune.Utf16SequenceLength - 1;
        }
        return [.. bytes];
    }

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern nint GetEnv(string name);

    /// <summary>An environment variable as the process was given it, decoded without loss (.NET's own decoding replaces bytes that are not UTF-8).</summary>
    public static unsafe string? GetEnvironmentVariable(string name)
    {
        if (!UnixFile.IsSupported) return Environment.GetEnvironmentVariable(name);
        var value = (byte*)GetEnv(name);
        return value is null ? null : Decode(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(value));
    }

    /// <summary>Whether <paramref name="text"/> holds a byte <see cref="Decode"/> could not decode.</summary>
    public static bool HasEscapedBytes(string text) => text.AsSpan().ContainsAnyInRange('\uDC80', '\uDCFF');
}

/// <summary>
/// A writer that sends what it is given to a stream through <see cref="RawText.Encode"/>, a line at a time: the balancer
/// program's stdout and stderr, so an entry of RSTUDIO_NODES is printed with exactly the bytes Workbench gave.
/// </summary>
public sealed class RawTextWriter(Stream stream) : TextWriter
{
    private readonly StringBuilder _pending = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        _pending.Append(value);
        if (value == '\n') Flush();
    }

    public override void Write(string? value)
    {
        _pending.Append(value);
        if (value is not null && value.Contains('\n')) Flush();
    }

    public override void Flush()
    {
        if (_pending.Length == 0) return;
        stream.Write(RawText.Encode(_pending.ToString()));
        stream.Flush();
        _pending.Clear();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Flush();
        base.Dispose(disposing);
    }
}

/// <summary>
/// A write-only stream over a descriptor this process was given (1 or 2), writing with write(2) at the descriptor's own
/// offset: what a caller redirected it to (a pipe, a file opened for appending) gets the bytes in order. Not FileStream,
/// which writes a regular file at its own idea of the offset (pwrite), over what the shell writes after; not Console's
/// stream, which sets up the terminal and its signal handling on first use (5% of a balancer decision, perf).
/// </summary>
public sealed class DescriptorStream(int descriptor) : Stream
{
    private readonly FileDescriptor _fd = FileDescriptor.Borrowed(descriptor);

    public static DescriptorStream StandardOutput() => new(1);
    public static DescriptorStream StandardError() => new(2);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override unsafe void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            var written = 0;
            while (written < buffer.Length)
            {
                var n = UnixFile.Write(_fd, start + written, buffer.Length - written);
                if (n < 0 && Marshal.GetLastPInvokeError() == UnixFile.EIntr) continue;
                if (n < 0) throw UnixFile.LastError("write", $"descriptor {descriptor}");
                written += (int)n;
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _fd.Dispose();
        base.Dispose(disposing);
    }
}
