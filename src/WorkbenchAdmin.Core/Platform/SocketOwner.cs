using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>
/// Who answers a TCP connection of ours on this host: the uid that owns the other end's socket. The kernel is asked
/// for exactly that socket (<see cref="SockDiag"/>), the one whose local address is our peer and whose remote address is
/// us, so listeners sharing a port (127.0.0.1 and 0.0.0.0, or IPv4 and IPv6) are never confused. An accepted socket
/// carries the uid of the process that made the listening socket. A socket no process holds yet is the listener's and
/// is asked for as such: the kernel reports it as uid 0, which callers trust as root's, for a request socket (a
/// handshake the server has not completed: TCP_DEFER_ACCEPT keeps one so until we send) and, on kernels older than
/// 6.17, for a connection waiting in the accept queue. A socket whose process has closed it answers for no one.
/// </summary>
public static class SocketOwner
{
    /// <summary>The uid owning the socket whose local address is <paramref name="remote"/> and remote address <paramref name="local"/>.</summary>
    public static uint? PeerUid(IPEndPoint local, IPEndPoint remote) => PeerUid(local, remote, SockDiag.Protocol);

    /// <param name="diagProtocol">NETLINK_SOCK_DIAG; a test gives a protocol the kernel lacks to reach the tables, as a sandbox would.</param>
    internal static uint? PeerUid(IPEndPoint local, IPEndPoint remote, int diagProtocol)
    {
        if (!UnixFile.IsSupported) return null;
        var us = Normal(local);
        var peer = Normal(remote);
        // Some sandboxes give no netlink socket at all (EPROTONOSUPPORT, EAFNOSUPPORT, EACCES from seccomp or a security
        // module): the kernel's tables answer the same question, at the cost of reading every connection of the host.
        using var kernel = SockDiag.Open(diagProtocol);
        return kernel is not null && Ask(kernel, us, peer, out var uid) ? uid : FromTables(us, peer);
    }

    /// <summary>The owner, as the kernel answers it; false when the kernel answers nothing about TCP sockets here.</summary>
    private static bool Ask(SockDiag kernel, IPEndPoint us, IPEndPoint peer, out uint? uid)
    {
        uid = null;
        switch (kernel.Find(peer, us, 0, out var theirs))
        {
            case SockDiagLookup.Refused:
                return false;
            case SockDiagLookup.NoSuchSocket:
                // ENOENT is also the answer of a kernel without TCP diagnostics (not built, module not loadable): our own
                // end of the connection tells which. When that is not found either, the tables answer.
                return kernel.Find(us, peer, 0, out _) == SockDiagLookup.Found;
        }
        // No socket has both ends: the kernel may have answered with the listener such a connection would reach.
        if (!theirs.Local.Equals(peer) || !theirs.Remote.Equals(us) || theirs.State == SockDiag.Listen) return true;
        uid = Owner(theirs, () =>
        {
            var any = new IPEndPoint(peer.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
            var found = kernel.Find(peer, any, theirs.Interface, out var listener);
            return found == SockDiagLookup.Found && listener.State == SockDiag.Listen && listener.Local.Port == peer.Port ? listener.Uid : null;
        });
        return true;
    }

    /// <summary>
    /// The owner of <paramref name="theirs"/>: the uid of the process that holds it; for a connection no process has
    /// accepted yet, the owner of the listener that took it (<paramref name="listenerUid"/>); else, once its process
    /// has closed it (FIN_WAIT, TIME_WAIT, LAST_ACK...), no one: the kernel reports those as uid 0 too.
    /// </summary>
    private static uint? Owner(in TcpSocketEntry theirs, Func<uint?> listenerUid) =>
        AwaitsAccept(theirs) ? listenerUid() : theirs.Inode != 0 ? theirs.Uid : null;

    private static bool AwaitsAccept(in TcpSocketEntry theirs) =>
        theirs.Inode == 0 && theirs.State is SockDiag.Established or SockDiag.SynReceived or SockDiag.CloseWait;

    /// <summary>
    /// The same answer read from /proc/net/tcp and tcp6, which list every socket of the host. A socket no process holds
    /// is the listener's when every listener that could have taken it (the peer's address or a wildcard, on its port)
    /// belongs to one uid; the tables do not say which one did.
    /// </summary>
    internal static uint? FromTables(IPEndPoint us, IPEndPoint peer)
    {
        TcpSocketEntry? theirs = null;
        var listenerUids = new HashSet<uint>();
        // An IPv6 peer is never in the IPv4 table; an IPv4 one may be in either (a dual-stack socket's, in tcp6).
        var tables = peer.AddressFamily == AddressFamily.InterNetwork ? new[] { "/proc/net/tcp", "/proc/net/tcp6" } : ["/proc/net/tcp6"];
        foreach (var table in tables)
        {
            if (!File.Exists(table)) continue;
            using var reader = new StreamReader(table);
            reader.ReadLine(); // the header
            while (reader.ReadLine() is { } line)
            {
                // "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ..."
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10 || Parse(fields[1]) is not { } local ||
                    !int.TryParse(fields[3], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var state) ||
                    !uint.TryParse(fields[7], NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ||
                    !ulong.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out var inode)) continue;
                if (state == SockDiag.Listen)
                {
                    if (local.Port == peer.Port && (local.Address.Equals(peer.Address) || local.Address.Equals(IPAddress.IPv6Any) ||
                                                    (peer.AddressFamily == AddressFamily.InterNetwork && local.Address.Equals(IPAddress.Any))))
                        listenerUids.Add(uid);
                }
                else if (local.Equals(peer) && Parse(fields[2]) is { } remote && remote.Equals(us))
                {
                    var entry = new TcpSocketEntry(local, remote, state, uid, inode, 0);
                    if (!AwaitsAccept(entry)) return Owner(entry, () => null); // no listener needed: read no further
                    theirs = entry;
                }
            }
        }
        return theirs is { } found ? Owner(found, () => listenerUids.Count == 1 ? listenerUids.Single() : null) : null;
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
