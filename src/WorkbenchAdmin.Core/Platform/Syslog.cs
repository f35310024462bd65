using System.Net.Sockets;
using System.Text;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>
/// One line to the local syslog (<c>/dev/log</c>, facility user), best effort: a node without a syslog
/// daemon loses the line, never the decision that logs it.
/// </summary>
public static class Syslog
{
    public const string Socket = "/dev/log";
    public enum Severity { Error = 3, Warning = 4, Notice = 5, Info = 6 }

    public static void Write(string tag, Severity severity, string message)
    {
        if (!UnixFile.IsSupported || !File.Exists(Socket)) return;
        try
        {
            using var socket = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(Socket));
            var line = $"<{8 + (int)severity}>{tag}[{Environment.ProcessId}]: {message.Replace('\n', ' ')}";
            socket.Send(Encoding.UTF8.GetBytes(line));
        }
        catch (SocketException) { }
    }
}
