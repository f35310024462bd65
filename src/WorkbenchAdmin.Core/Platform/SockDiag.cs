using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>One TCP socket as the kernel describes it: its two ends, its state (TCP_* numbers), owner and inode (0: no process holds it).</summary>
internal readonly record struct TcpSocketEntry(IPEndPoint Local, IPEndPoint Remote, int State, uint Uid, ulong Inode, uint Interface);

/// <summary>How an exact lookup of one socket ended.</summary>
internal enum SockDiagLookup { Found, NoSuchSocket, Refused }

/// <summary>
/// Exact lookups of one TCP socket through the kernel's socket diagnostics (NETLINK_SOCK_DIAG, inet_diag): a request
/// names both ends of the socket and the kernel answers with that socket alone, whatever else the host holds. One
/// netlink socket for the few lookups of one question; every receive is bounded, so a kernel that never answers cannot
/// hold up a decision. Layouts are those of linux/netlink.h and linux/inet_diag.h, the same on every architecture.
/// </summary>
internal sealed unsafe class SockDiag : IDisposable
{
    /// <summary>NETLINK_SOCK_DIAG.</summary>
    internal const int Protocol = 4;
    internal const int Established = 1, SynReceived = 3, CloseWait = 8, Listen = 10;

    private const ushort NlmsgError = 2, SockDiagByFamily = 20, NlmFRequest = 1;
    private const byte IpProtoTcp = 6;
    private const uint AllButListen = 0xFFF & ~(1u << Listen);
    private const int EPerm = 1, EAcces = 13;
    private const int ReceiveBound = 250; // ms; the kernel answers within the send, so this only bounds a kernel gone wrong

    [StructLayout(LayoutKind.Sequential)]
    private struct NetlinkHeader { public uint Length; public ushort Type, Flags; public uint Sequence, PortId; }

    /// <summary>struct inet_diag_sockid: ports and addresses in network order.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SocketId
    {
        public ushort SourcePort, DestinationPort;
        public fixed byte Source[16];
        public fixed byte Destination[16];
        public uint Interface;
        public fixed uint Cookie[2];
    }

    /// <summary>A netlink header and struct inet_diag_req_v2.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Request { public NetlinkHeader Header; public byte Family, Protocol, Extensions, Pad; public uint States; public SocketId Id; }

    /// <summary>struct inet_diag_msg (attributes may follow; none is asked for).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Message { public byte Family, State, Timer, Retransmits; public SocketId Id; public uint Expires, ReceiveQueue, SendQueue, Uid, Inode; }

    private readonly FileDescriptor _fd;
    private uint _sequence;

    private SockDiag(FileDescriptor fd) => _fd = fd;

    /// <summary>A netlink socket of <paramref name="protocol"/>, or null when this process may not have one (a sandbox's refusal).</summary>
    internal static SockDiag? Open(int protocol)
    {
        var fd = new FileDescriptor(LibcSocket.Socket(LibcSocket.AfNetlink, LibcSocket.SockDgram | LibcSocket.SockCloexec, protocol));
        if (fd.IsInvalid) return null;
        if (!LibcSocket.SetTimeout(fd, LibcSocket.SoRcvTimeo, TimeSpan.FromMilliseconds(ReceiveBound)))
        {
            var e = Error("setsockopt(SO_RCVTIMEO)");
            fd.Dispose();
            throw e;
        }
        return new SockDiag(fd);
    }

    public void Dispose() => _fd.Dispose();

    /// <summary>
    /// The TCP socket whose local end is <paramref name="local"/> and remote end <paramref name="remote"/> (for a listener:
    /// 0.0.0.0:0 or [::]:0). An IPv4 address is asked for as IPv4 even when a dual-stack socket holds it: the kernel keeps
    /// such sockets in the IPv4 table under their IPv4 addresses (and answers an IPv4-mapped AF_INET6 request from that
    /// same table). When none matches exactly, the kernel may answer with the listener that would take such a connection.
    /// Refused: the kernel will not be asked (a security module's refusal).
    /// </summary>
    internal SockDiagLookup Find(IPEndPoint local, IPEndPoint remote, uint @interface, out TcpSocketEntry entry)
    {
        entry = default;
        var request = new Request
        {
            Header = new NetlinkHeader { Length = (uint)sizeof(Request), Type = SockDiagByFamily, Flags = NlmFRequest, Sequence = ++_sequence },
            Family = local.AddressFamily == AddressFamily.InterNetwork ? (byte)LibcSocket.AfInet : (byte)LibcSocket.AfInet6,
            Protocol = IpProtoTcp,
            States = AllButListen,
        };
        request.Id.SourcePort = (ushort)IPAddress.HostToNetworkOrder((short)local.Port);
        request.Id.DestinationPort = (ushort)IPAddress.HostToNetworkOrder((short)remote.Port);
        local.Address.TryWriteBytes(new Span<byte>(request.Id.Source, 16), out _);
        remote.Address.TryWriteBytes(new Span<byte>(request.Id.Destination, 16), out _);
        request.Id.Interface = @interface;
        request.Id.Cookie[0] = request.Id.Cookie[1] = uint.MaxValue; // INET_DIAG_NOCOOKIE

        nint sent;
        do sent = LibcSocket.Send(_fd, &request, sizeof(Request), 0);
        while (sent < 0 && Marshal.GetLastPInvokeError() == UnixFile.EIntr);
        if (sent < 0)
        {
            if (Marshal.GetLastPInvokeError() is EAcces or EPerm) return SockDiagLookup.Refused;
            throw Error("send(SOCK_DIAG_BY_FAMILY)");
        }

        const int size = 8192;
        var buffer = stackalloc byte[size];
        var deadline = Environment.TickCount64 + ReceiveBound;
        while (true)
        {
            var received = LibcSocket.Receive(_fd, buffer, size, 0);
            if (received < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == UnixFile.EIntr && Environment.TickCount64 < deadline) continue; // the runtime's own signals interrupt a wait
                throw errno == UnixFile.EAgain
                    ? new IOException($"the kernel did not answer a socket-diagnostics request (NETLINK_SOCK_DIAG) within {ReceiveBound} ms")
                    : Error("recv(NETLINK_SOCK_DIAG)");
            }
            var header = (NetlinkHeader*)buffer;
            if (received < sizeof(NetlinkHeader) || header->Length > received) throw Malformed($"{received} bytes");
            if (header->Sequence != request.Header.Sequence) continue; // not the answer to this request
            if (header->Type == NlmsgError && header->Length >= sizeof(NetlinkHeader) + sizeof(int))
            {
                var error = -*(int*)(header + 1);
                if (error == UnixFile.ENoEnt) return SockDiagLookup.NoSuchSocket;
                throw new IOException($"the kernel refused a socket-diagnostics request (NETLINK_SOCK_DIAG): {Marshal.GetPInvokeErrorMessage(error)}");
            }
            if (header->Type != SockDiagByFamily || header->Length < sizeof(NetlinkHeader) + sizeof(Message))
                throw Malformed($"message type {header->Type}, {header->Length} bytes");
            var message = (Message*)(header + 1);
            entry = new TcpSocketEntry(EndPoint(message->Family, message->Id.Source, message->Id.SourcePort),
                                       EndPoint(message->Family, message->Id.Destination, message->Id.DestinationPort),
                                       message->State, message->Uid, message->Inode, message->Id.Interface);
            return SockDiagLookup.Found;
        }
    }

    /// <summary>An address of an answer; an IPv4-mapped one as the IPv4 address it stands for.</summary>
    private static IPEndPoint EndPoint(byte family, byte* address, ushort port)
    {
        var ip = new IPAddress(new ReadOnlySpan<byte>(address, family == LibcSocket.AfInet ? 4 : 16));
        return new IPEndPoint(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip, (ushort)IPAddress.NetworkToHostOrder((short)port));
    }

    private static IOException Malformed(string what) => new($"the kernel's socket-diagnostics answer (NETLINK_SOCK_DIAG) is not one: {what}");

    private static IOException Error(string call) => new($"{call} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
}
