using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>
/// Who answers a TCP connection of ours on this host: the uid that owns the other end's socket, read from the
/// kernel's socket tables (/proc/net/tcp and tcp6). An accepted socket (and, before accept, its request) carries the
/// uid of the process that made the listening socket, so the entry whose local address is our peer and whose remote
/// address is us names the owner of exactly the listener that took our connection. Any process may read these tables
/// (no privilege, no netlink dialogue), and matching the whole connection rather than a listening port leaves no
/// doubt between listeners on the same port (127.0.0.1 and 0.0.0.0, or IPv4 and IPv6).
/// </summary>
public static class SocketOwner
{
    private const string Listen = "0A";

    /// <summary>The uid owning the far end of <paramref name="socket"/>'s connection, or null when it is not a socket of this host.</summary>
    public static uint? PeerUid(Socket socket) =>
        socket.LocalEndPoint is IPEndPoint local && socket.RemoteEndPoint is IPEndPoint remote ? PeerUid(local, remote) : null;

    /// <summary>The uid owning the socket whose local address is <paramref name="remote"/> and remote address <paramref name="local"/>.</summary>
    public static uint? PeerUid(IPEndPoint local, IPEndPoint remote)
    {
        if (!UnixFile.IsSupported) return null;
        var us = Normal(local);
        var peer = Normal(remote);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            using var reader = new StreamReader(table);
            reader.ReadLine(); // the header
            while (reader.ReadLine() is { } line)
            {
                // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ..."
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 8 || fields[3] == Listen) continue;
                if (Parse(fields[1]) is { } l && l.Equals(peer) && Parse(fields[2]) is { } r && r.Equals(us) &&
                    uint.TryParse(fields[7], NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
                    return uid;
            }
        }
        return null;
    }

    /// <summary>An IPv4-mapped IPv6 address as the IPv4 address it stands for (a dual-stack socket's view of an IPv4 peer).</summary>
    private static IPEndPoint Normal(IPEndPoint e) => e.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(e.Address.MapToIPv4(), e.Port) : e;

    /// <summary>
    /// An address of the tables: hex of the address's 32-bit words as the kernel holds them (network order in memory,
    /// printed as host-order integers), a colon, the port in hex.
    /// </summary>
    internal static IPEndPoint? Parse(string field)
    {
        var colon = field.IndexOf(':');
        if (colon is not (8 or 32) || !int.TryParse(field.AsSpan(colon + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var port)) return null;
        var bytes = new byte[colon / 2];
        for (var word = 0; word < colon / 8; word++)
        {
            if (!uint.TryParse(field.AsSpan(word * 8, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)) return null;
            BitConverter.TryWriteBytes(bytes.AsSpan(word * 4, 4), value); // host order, as the kernel printed it
        }
        return Normal(new IPEndPoint(new IPAddress(bytes), port));
    }
}
