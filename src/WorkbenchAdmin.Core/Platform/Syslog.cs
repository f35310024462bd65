using System.Net.Sockets;
using System.Text;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>
/// One line to the local syslog (<c>/dev/log</c>, facility user), best effort: a node without a syslog
/// daemon, or with one that has stopped reading, loses the line, never the decision that logs it.
/// </summary>
public static class Syslog
{
    public const string Socket = "/dev/log";
    /// <summary>The longest line sent, header included: the size every syslog receiver must accept (RFC 5424, 6.1).</summary>
    public const int MaxLineBytes = 2048;
    public enum Severity { Error = 3, Warning = 4, Notice = 5, Info = 6 }

    public static void Write(string tag, Severity severity, string message)
    {
        if (!UnixFile.IsSupported || !File.Exists(Socket)) return;
        try
        {
            using var socket = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            // Never waits: a daemon whose queue is full (stopped, or slower than a burst of logins) would hold the
            // decision past its deadline; the line is dropped instead (EAGAIN).
            socket.Blocking = false;
            socket.Connect(new UnixDomainSocketEndPoint(Socket));
            var header = $"<{8 + (int)severity}>{tag}[{Environment.ProcessId}]: ";
            socket.Send(RawText.Encode(header + Bound(message.Replace('\n', ' '), MaxLineBytes - Encoding.UTF8.GetByteCount(header))));
        }
        catch (SocketException) { }
    }

    /// <summary>
    /// <paramref name="message"/> cut to at most <paramref name="maxBytes"/> bytes as <see cref="RawText"/> writes it, saying how
    /// much was left out: one decision writes one line of bounded size, whatever the list Workbench passed.
    /// </summary>
    public static string Bound(string message, int maxBytes)
    {
        var bytes = RawText.Encode(message).Length;
        if (bytes <= maxBytes) return message;
        var tail = $"… ({bytes:N0} bytes, cut)";
        var room = maxBytes - Encoding.UTF8.GetByteCount(tail);
        var end = 0;
        for (var used = 0; end < message.Length;)
        {
            var width = char.IsHighSurrogate(message[end]) && end + 1 < message.Length && char.IsLowSurrogate(message[end + 1]) ? 2 : 1;
            var size = RawText.Encode(message.Substring(end, width)).Length;
            if (used + size > room) break;
            used += size;
            end += width;
        }
        return message[..end] + tail;
    }
}
