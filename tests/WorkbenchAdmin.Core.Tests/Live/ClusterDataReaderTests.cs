using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Tests.Support;

using WorkbenchAdmin.Core.Tests.Balancing;

namespace WorkbenchAdmin.Core.Tests.Live;

/// <summary>Issue 24: reads of the status page and the store that are abandoned are cancelled, and a page is read no further than its bound.</summary>
public sealed class ClusterDataReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public ClusterDataReaderTests() => _listener.Start();

    public void Dispose()
    {
        _listener.Stop();
        _dir.Dispose();
    }

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    private StatusPage Page => StatusPage.Of($"http://127.0.0.1:{Port}/load-balancer/status", RServerConfig.From(null));

    private static ClusterDataReader.PendingRead<StoreView> NoStore() =>
        ClusterDataReader.StartStore(new ConfigRoot("/nonexistent"), TimeSpan.FromSeconds(1), _ => throw new IOException("no store here"));

    /// <summary>Accepts one connection, answers with <paramref name="answer"/> after the request, then tells whether the reader closed it within 5 s.</summary>
    private Task<bool> ServeOnce(Func<Socket, Task> answer) => Task.Run(async () =>
    {
        using var s = await _listener.AcceptSocketAsync();
        var buffer = new byte[4096];
        await s.ReceiveAsync(buffer);
        try { await answer(s); }
        catch (SocketException) { return true; } // reset by the reader: closed
        s.ReceiveTimeout = 5000;
        try { return s.Receive(buffer) == 0; }
        catch (SocketException e) { return e.SocketErrorCode != SocketError.TimedOut; }
    });

    [Fact]
    public async Task AStatusReadAbandonedAtTheDeadlineIsCancelledAndItsConnectionClosed()
    {
        var closed = ServeOnce(s => s.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nnode1:8787 -  Load: 0, 0, 0\n"u8.ToArray()));
        var (status, _) = ClusterDataReader.Collect(NoStore(), Page, TimeSpan.FromMilliseconds(300), Stopwatch.GetTimestamp(), TimeProvider.System);
        Assert.Contains("did not answer within 300 ms", status.Problem);
        Assert.True(await closed.WaitAsync(TimeSpan.FromSeconds(10)), "the abandoned read kept its connection open");
    }

    [Theory]
    [InlineData(true)]  // the size announced: refused before reading
    [InlineData(false)] // no length, the body streams until closed: refused at the bound
    public async Task APageLargerThanTheBoundIsNotReadFurther(bool announced)
    {
        var closed = ServeOnce(async s =>
        {
            await s.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\n{(announced ? "Content-Length: 104857600\r\n" : "Connection: close\r\n")}\r\n"));
            var block = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("   12345 - someone\n", 4096)));
            for (var sent = 0L; sent < 100L * 1024 * 1024; sent += block.Length) await s.SendAsync(block);
        });
        var (status, _) = ClusterDataReader.Collect(NoStore(), Page, TimeSpan.FromSeconds(20), Stopwatch.GetTimestamp(), TimeProvider.System);
        Assert.Contains("larger than 4 MiB", status.Problem);
        Assert.True(await closed.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task AStoreReadAbandonedAtTheDeadlineIsCancelled()
    {
        // A "PostgreSQL" that accepts and never speaks: the connect would wait its 30 s connection timeout. The deadline
        // leaves a loaded machine time to reach the connect (building the data source comes first); the read must end
        // within a second or so of it.
        var root = Directory.CreateDirectory(_dir.File("etc")).FullName;
        File.WriteAllText(Path.Combine(root, "database.conf"),
            $"provider=postgresql\nhost=127.0.0.1\nport={Port}\ndatabase=x\nusername=u\npassword=p\nconnection-timeout-seconds=30\n");
        File.SetUnixFileMode(Path.Combine(root, "database.conf"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var closed = Task.Run(() =>
        {
            using var s = _listener.AcceptSocket();
            s.ReceiveTimeout = 10_000; // far less than the 30 s connection timeout
            var buffer = new byte[4096];
            try { while (s.Receive(buffer) > 0) { } return true; }
            catch (SocketException e) { return e.SocketErrorCode != SocketError.TimedOut; }
        });
        // The deadline counts from before the read starts, as in the program: the connect's own 3 s bound (the same
        // deadline, counted from the connect) then always ends later than the deadline does.
        var started = Stopwatch.GetTimestamp();
        var store = ClusterDataReader.StartStore(new ConfigRoot(root), TimeSpan.FromSeconds(3));
        var unused = StatusPage.Of("http://127.0.0.1:1/load-balancer/status", RServerConfig.From(null));
        var (_, result) = ClusterDataReader.Collect(store, unused, TimeSpan.FromSeconds(3), started, TimeProvider.System);
        Assert.Contains("the store did not answer within 3000 ms", result.Problem);
        Assert.True(await closed.WaitAsync(TimeSpan.FromSeconds(20)), "the abandoned store read kept its connection open");
    }
}
