using System.Net;
using System.Net.Sockets;

namespace WorkbenchAdmin.Core.Tests.Support;

/// <summary>
/// Why a test cannot run on this machine, or null when it can: checked before the test, so a test that did not
/// run is reported as skipped with its reason, never as passed (CI runs as root with every tool installed by
/// ./bootstrap.sh).
/// </summary>
public static class Requirements
{
    public static string? Root(string why) =>
        Posix.IsRoot ? null : $"needs root ({why}); running as uid {WorkbenchAdmin.Core.Platform.UnixFile.EffectiveUserId}";

    public static string? Tool(string path, string package) =>
        File.Exists(path) ? null : $"{path} is not installed (apt-get install {package}; ./bootstrap.sh installs it)";

    public static string? IPv6Loopback()
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            return null;
        }
        catch (SocketException e)
        {
            return $"this host has no IPv6 loopback (binding [::1]:0: {e.Message})";
        }
    }
}

/// <summary>A fact that needs root; skipped, saying why, elsewhere.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute(string why) => Skip = Requirements.Root(why);
}

/// <summary>A fact that needs a program from a Debian package; skipped, naming the package, where it is missing.</summary>
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(string path, string package) => Skip = Requirements.Tool(path, package);
}

/// <summary>A fact that needs an IPv6 loopback address (::1); skipped, saying why, on a host without one.</summary>
public sealed class IPv6LoopbackFactAttribute : FactAttribute
{
    public IPv6LoopbackFactAttribute() => Skip = Requirements.IPv6Loopback();
}
