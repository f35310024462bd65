using System.Text;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>What a Unix socket's path must be: absolute, and short enough for sockaddr_un (107 bytes and a NUL).</summary>
public static class UnixSocketPath
{
    public const int MaxBytes = 107;

    /// <summary>Why <paramref name="path"/> cannot name a Unix socket, or null when it can.</summary>
    public static string? WhyInvalid(string path)
    {
        if (!Path.IsPathRooted(path)) return "must be an absolute path";
        var bytes = Encoding.UTF8.GetByteCount(path);
        return bytes > MaxBytes ? $"is {bytes} bytes long; a Unix socket's path can be at most {MaxBytes}" : null;
    }
}
