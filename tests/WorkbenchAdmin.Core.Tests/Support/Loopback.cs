using System.Net;
using System.Net.Sockets;

namespace WorkbenchAdmin.Core.Tests.Support;

/// <summary>Real TCP ports on this machine: free ones (nothing listens there) and listeners standing in for a server.</summary>
public static class Loopback
{
    /// <summary>A port on 127.0.0.1 that nothing listens on (it was free a moment ago).</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>A started listener on <paramref name="address"/>:<paramref name="port"/> (0: a free port); the caller stops it.</summary>
    public static TcpListener Listen(string address = "127.0.0.1", int port = 0)
    {
        var listener = new TcpListener(IPAddress.Parse(address), port);
        listener.Start();
        return listener;
    }

    public static int PortOf(TcpListener listener) => ((IPEndPoint)listener.LocalEndpoint).Port;
}
