using System.Globalization;
using System.Net.Sockets;

namespace WorkbenchAdmin.Core.Live;

/// <summary>
/// systemd's socket activation (sd_listen_fds(3)): workbenchadmin-balancer.socket holds the listening socket, starts
/// the decision service on the first call and hands it the socket as descriptor 3. Calls made while the service
/// restarts wait in the socket's queue instead of failing, and the socket outlives the service.
/// </summary>
public static class SocketActivation
{
    public const int FirstDescriptor = 3;

    /// <summary>The listening Unix socket systemd passed to this process, or null when it passed none.</summary>
    public static Socket? TakeListener()
    {
        var pid = Environment.GetEnvironmentVariable("LISTEN_PID");
        var count = Environment.GetEnvironmentVariable("LISTEN_FDS");
        if (pid is null || count is null || pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture)) return null;
        // Taken once: a process this one starts does not take it too.
        Environment.SetEnvironmentVariable("LISTEN_PID", null);
        Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);
        if (count != "1")
            throw new WbException("ServiceSocketActivation", WbErrorCategory.InvalidOperation,
                $"systemd passed {count} sockets (LISTEN_FDS); the decision service listens on one: ListenStream= once in workbenchadmin-balancer.socket.", count);
        var socket = new Socket(new SafeSocketHandle(FirstDescriptor, ownsHandle: true));
        if (socket.AddressFamily != AddressFamily.Unix || socket.SocketType != SocketType.Stream)
        {
            socket.Dispose();
            throw new WbException("ServiceSocketActivation", WbErrorCategory.InvalidOperation,
                "systemd passed a socket that is not a Unix stream socket: workbenchadmin-balancer.socket must say ListenStream=/path.", null);
        }
        return socket;
    }
}
