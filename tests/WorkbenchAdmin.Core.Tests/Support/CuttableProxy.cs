using System.Net;
using System.Net.Sockets;

namespace WorkbenchAdmin.Core.Tests.Support;

/// <summary>
/// A loopback TCP relay in front of PostgreSQL that loses connections the way a network cut or a restart does: all
/// at once (<see cref="CutAll"/>), or just as the server's answer to a COMMIT comes back (<see cref="DropCommitAnswer"/>:
/// the server has committed, the client never hears it). Connections are reset, not closed, as a dead peer's would be.
/// </summary>
public sealed class CuttableProxy : IDisposable
{
    // CommandComplete ('C', length 11) with the tag COMMIT: the server committed.
    private static readonly byte[] CommitDone = [(byte)'C', 0, 0, 0, 11, .. "COMMIT\0"u8];
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly List<(Socket Client, Socket Server)> _pairs = [];

    public CuttableProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        new Thread(Accept) { IsBackground = true }.Start();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>When set, the next COMMIT answer is not passed on: its connection is cut instead, and this is cleared.</summary>
    public volatile bool DropCommitAnswer;

    /// <summary>Answers dropped so far.</summary>
    public int Dropped;

    public void CutAll()
    {
        lock (_pairs)
        {
            foreach (var (c, s) in _pairs) { Reset(c); Reset(s); }
            _pairs.Clear();
        }
    }

    private void Accept()
    {
        while (true)
        {
            Socket client;
            try { client = _listener.AcceptSocket(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            server.Connect(IPAddress.Loopback, _target);
            lock (_pairs) _pairs.Add((client, server));
            new Thread(() => Pump(client, server, toClient: false)) { IsBackground = true }.Start();
            new Thread(() => Pump(server, client, toClient: true)) { IsBackground = true }.Start();
        }
    }

    private void Pump(Socket from, Socket to, bool toClient)
    {
        var buffer = new byte[65536];
        try
        {
            while (true)
            {
                var n = from.Receive(buffer);
                if (n == 0) break;
                if (toClient && DropCommitAnswer && buffer.AsSpan(0, n).IndexOf(CommitDone) >= 0)
                {
                    DropCommitAnswer = false;
                    Interlocked.Increment(ref Dropped);
                    break;
                }
                to.Send(buffer, 0, n, SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        Reset(from);
        Reset(to);
    }

    private static void Reset(Socket socket)
    {
        try { socket.LingerState = new LingerOption(true, 0); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        socket.Dispose();
    }

    public void Dispose()
    {
        _listener.Stop();
        CutAll();
    }
}
