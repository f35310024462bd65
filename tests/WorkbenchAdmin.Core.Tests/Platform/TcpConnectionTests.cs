using System.Net;
using System.Net.Sockets;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Platform;

/// <summary>The balancer program's TCP connection made with libc calls: its ends, its bounds and its abort.</summary>
public sealed class TcpConnectionTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public TcpConnectionTests() => _listener.Start();

    public void Dispose() => _listener.Stop();

    private IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;
    private static long In(TimeSpan time) => Environment.TickCount64 + (long)time.TotalMilliseconds;

    [Fact]
    public void ItKnowsBothEndsAndCarriesBytesBothWays()
    {
        using var connection = TcpConnection.Connect(Endpoint, In(TimeSpan.FromSeconds(10)), CancellationToken.None);
        using var server = _listener.AcceptSocket();
        Assert.Equal(Endpoint, connection.Remote);
        Assert.Equal(server.RemoteEndPoint, connection.Local);
        connection.Bound(In(TimeSpan.FromSeconds(10)));
        connection.Write("ping"u8);
        var buffer = new byte[4];
        Assert.Equal(4, server.Receive(buffer));
        server.Send("pong"u8);
        server.Shutdown(SocketShutdown.Send);
        Assert.Equal(4, connection.Read(buffer));
        Assert.Equal("pong"u8.ToArray(), buffer);
        Assert.Equal(0, connection.Read(buffer));
    }

    [Fact]
    public void AClosedPortIsRefusedNamingTheAddress()
    {
        var port = Loopback.FreePort();
        var e = Assert.Throws<IOException>(() => TcpConnection.Connect(new IPEndPoint(IPAddress.Loopback, port), In(TimeSpan.FromSeconds(10)), CancellationToken.None));
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"127.0.0.1:{port}", e.Message);
    }

    [Fact]
    public void AReadThatGetsNothingInTimeIsATimeout()
    {
        using var connection = TcpConnection.Connect(Endpoint, In(TimeSpan.FromSeconds(10)), CancellationToken.None);
        using var server = _listener.AcceptSocket();
        connection.Bound(In(TimeSpan.FromMilliseconds(200)));
        Assert.Throws<TimeoutException>(() => connection.Read(new byte[16]));
    }

    [Fact]
    public async Task AbortEndsAReadBlockedOnAnotherThread()
    {
        using var connection = TcpConnection.Connect(Endpoint, In(TimeSpan.FromSeconds(10)), CancellationToken.None);
        using var server = _listener.AcceptSocket();
        connection.Bound(In(TimeSpan.FromMinutes(1)));
        var read = Task.Run(() => connection.Read(new byte[16]));
        await Task.Delay(100);
        connection.Abort();
        Assert.Equal(0, await read.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void AbortAfterDisposeDoesNothing()
    {
        var connection = TcpConnection.Connect(Endpoint, In(TimeSpan.FromSeconds(10)), CancellationToken.None);
        connection.Dispose();
        connection.Abort();
    }
}
