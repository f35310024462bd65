using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace WorkbenchAdmin.Core.Platform;

/// <summary>
/// A TCP connection made and used with the C library's calls, blocking, on the caller's thread. For the balancer
/// program, which starts once per session and makes one short exchange: .NET's Socket starts its event engine (an
/// epoll set and a thread) on first use, 5% of a whole decision (perf). Every call is bounded: the connect by the
/// deadline given (SO_SNDTIMEO bounds a blocking connect on Linux; waited in slices, so a cancellation stops it within
/// one), reads and writes by <see cref="Bound"/>; a call that runs out of time throws <see cref="TimeoutException"/>.
/// <see cref="Abort"/> ends a read or write blocked on it from another thread (how a cancelled read stops at once).
/// </summary>
public sealed unsafe class TcpConnection : Stream
{
    private const int MsgNoSignal = 0x4000, ShutRdWr = 2;
    private const int EAlready = 114, EInProgress = 115, EIsConn = 106;
    private const long ConnectSliceMs = 100;

    private readonly FileDescriptor _fd;

    private TcpConnection(FileDescriptor fd, IPEndPoint local, IPEndPoint remote)
    {
        _fd = fd;
        Local = local;
        Remote = remote;
    }

    /// <summary>This end of the connection.</summary>
    public IPEndPoint Local { get; }
    /// <summary>The far end, as connected to.</summary>
    public IPEndPoint Remote { get; }

    /// <param name="deadline">When to give up (Environment.TickCount64).</param>
    /// <exception cref="IOException">The connection was refused or failed (the message is the system's).</exception>
    /// <exception cref="TimeoutException">No answer by <paramref name="deadline"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancel"/> was cancelled while waiting.</exception>
    public static TcpConnection Connect(IPEndPoint endpoint, long deadline, CancellationToken cancel)
    {
        var fd = new FileDescriptor(LibcSocket.Socket(
            endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? LibcSocket.AfInet6 : LibcSocket.AfInet, LibcSocket.SockStream | LibcSocket.SockCloexec, 0));
        if (fd.IsInvalid) throw Failure("socket");
        try
        {
            Span<byte> address = stackalloc byte[28];
            var length = Write(endpoint, address);
            while (true)
            {
                // A connect that times out goes on in the kernel; calling it again waits for the same one (0 once it is made).
                SetTimeout(fd, LibcSocket.SoSndTimeo, TimeSpan.FromMilliseconds(Math.Clamp(deadline - Environment.TickCount64, 1, ConnectSliceMs)));
                int result;
                fixed (byte* a = address) result = ConnectTo(fd, a, length);
                var errno = result == 0 ? 0 : Marshal.GetLastPInvokeError();
                if (errno is 0 or EIsConn) break;
                if (errno is not (EInProgress or EAlready or UnixFile.EAgain or UnixFile.EIntr))
                    throw new IOException($"{Marshal.GetPInvokeErrorMessage(errno)} ({Where(endpoint)})");
                cancel.ThrowIfCancellationRequested();
                if (Environment.TickCount64 >= deadline) throw new TimeoutException($"connecting to {Where(endpoint)} took too long");
            }
            return new TcpConnection(fd, Name(fd, local: true), Name(fd, local: false));
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Bounds each following read and write to what is left until <paramref name="deadline"/> (Environment.TickCount64).</summary>
    public void Bound(long deadline)
    {
        var left = TimeSpan.FromMilliseconds(Math.Clamp(deadline - Environment.TickCount64, 1, int.MaxValue));
        SetTimeout(_fd, LibcSocket.SoRcvTimeo, left);
        SetTimeout(_fd, LibcSocket.SoSndTimeo, left);
    }

    /// <summary>Ends any read or write blocked on this connection, from any thread; what follows reads the end of the stream.</summary>
    public void Abort()
    {
        try { _ = Shutdown(_fd, ShutRdWr); }
        catch (ObjectDisposedException) { } // closed already: nothing blocks on it
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        {
            while (true)
            {
                var n = LibcSocket.Receive(_fd, b, buffer.Length, 0);
                if (n >= 0) return (int)n;
                var errno = Marshal.GetLastPInvokeError();
                if (errno == UnixFile.EIntr) continue;
                if (errno == UnixFile.EAgain) throw new TimeoutException($"{Where(Remote)} sent nothing more in time");
                throw new IOException($"{Marshal.GetPInvokeErrorMessage(errno)} (reading from {Where(Remote)})");
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* b = buffer)
        {
            var sent = 0;
            while (sent < buffer.Length)
            {
                // MSG_NOSIGNAL: a peer that closed is an error here, not a SIGPIPE for the whole program.
                var n = LibcSocket.Send(_fd, b + sent, buffer.Length - sent, MsgNoSignal);
                if (n >= 0) { sent += (int)n; continue; }
                var errno = Marshal.GetLastPInvokeError();
                if (errno == UnixFile.EIntr) continue;
                if (errno == UnixFile.EAgain) throw new TimeoutException($"{Where(Remote)} took nothing more in time");
                throw new IOException($"{Marshal.GetPInvokeErrorMessage(errno)} (writing to {Where(Remote)})");
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _fd.Dispose();
        base.Dispose(disposing);
    }

    private static string Where(IPEndPoint e) => NodeCandidate.FormatAddress(e.Address.ToString(), e.Port);

    private static IOException Failure(string call) => new($"{call}() failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

    private static void SetTimeout(FileDescriptor fd, int option, TimeSpan timeout)
    {
        if (!LibcSocket.SetTimeout(fd, option, timeout)) throw Failure("setsockopt");
    }

    /// <summary>struct sockaddr_in or sockaddr_in6 for <paramref name="e"/> (port in network order); its length.</summary>
    private static int Write(IPEndPoint e, Span<byte> to)
    {
        to.Clear();
        if (e.AddressFamily == AddressFamily.InterNetworkV6)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(to, LibcSocket.AfInet6);
            BinaryPrimitives.WriteUInt16BigEndian(to[2..], (ushort)e.Port);
            e.Address.TryWriteBytes(to.Slice(8, 16), out _);
            BinaryPrimitives.WriteUInt32LittleEndian(to[24..], (uint)e.Address.ScopeId);
            return 28;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(to, LibcSocket.AfInet);
        BinaryPrimitives.WriteUInt16BigEndian(to[2..], (ushort)e.Port);
        e.Address.TryWriteBytes(to.Slice(4, 4), out _);
        return 16;
    }

    private static IPEndPoint Name(FileDescriptor fd, bool local)
    {
        Span<byte> address = stackalloc byte[28];
        var length = (uint)address.Length;
        int result;
        fixed (byte* a = address) result = local ? GetSockName(fd, a, &length) : GetPeerName(fd, a, &length);
        if (result != 0) throw Failure(local ? "getsockname" : "getpeername");
        var port = BinaryPrimitives.ReadUInt16BigEndian(address[2..]);
        return BinaryPrimitives.ReadUInt16LittleEndian(address) == LibcSocket.AfInet6
            ? new IPEndPoint(new IPAddress(address.Slice(8, 16), BinaryPrimitives.ReadUInt32LittleEndian(address[24..])), port)
            : new IPEndPoint(new IPAddress(address.Slice(4, 4)), port);
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "connect")]
    private static extern int ConnectTo(FileDescriptor fd, byte* address, int length);

    [DllImport("libc", SetLastError = true, EntryPoint = "getsockname")]
    private static extern int GetSockName(FileDescriptor fd, byte* address, uint* length);

    [DllImport("libc", SetLastError = true, EntryPoint = "getpeername")]
    private static extern int GetPeerName(FileDescriptor fd, byte* address, uint* length);

    [DllImport("libc", SetLastError = true, EntryPoint = "shutdown")]
    private static extern int Shutdown(FileDescriptor fd, int how);
}
