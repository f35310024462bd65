using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Tests.Support;
using WorkbenchAdmin.Model;

namespace WorkbenchAdmin.Core.Tests.Live;

/// <summary>
/// The status page client against real loopback servers answering with exact bytes: what it sends, what answers it
/// reads, what it refuses, and how its deadline and cancellation end a read. Time bounds are generous (a loaded
/// 2-core machine); what they tell apart is seconds against the tens of seconds a wrong client would take.
/// </summary>
public sealed class StatusPageClientTests : IDisposable
{
    private const string Page = "node1:8787 -  Load: 0.5, 0.25, 0.125\n   12345 - alice\n   12346 - bob\n";
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    /// <summary>What a loaded machine may add to a bound before the client's end is seen.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(5);

    private readonly TcpListener _listener = Loopback.Listen();

    public void Dispose() => _listener.Stop();

    private string Url(string path = "/load-balancer/status") => $"http://127.0.0.1:{Loopback.PortOf(_listener)}{path}";

    private static IReadOnlyList<NodeSessionLoad> Fetch(string uri, TimeSpan? within = null, CancellationToken cancel = default) =>
        StatusPageClient.Fetch(uri, null, within ?? Long, cancel);

    private static void AssertPage(IReadOnlyList<NodeSessionLoad> nodes)
    {
        var node = Assert.Single(nodes);
        Assert.Equal("node1:8787", node.Address);
        Assert.Equal(0.5, node.Load1);
        Assert.Equal(["alice", "bob"], node.Sessions.Select(s => s.UserName));
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    /// <summary>What the server saw: the request (up to its blank line) and whether the client closed the connection.</summary>
    private sealed record Served(string Request, bool Closed);

    /// <summary>
    /// Accepts one connection on <paramref name="listener"/>, reads the request, runs <paramref name="answer"/>, then tells
    /// whether the client closed the connection (within 10 s). An answer the client cut off by closing counts as closed.
    /// </summary>
    private static Task<Served> Serve(TcpListener listener, Func<Socket, Task> answer) => Task.Run(async () =>
    {
        using var s = await listener.AcceptSocketAsync();
        s.NoDelay = true; // small writes leave as they are written
        var request = await ReadRequest(s);
        try { await answer(s); }
        catch (SocketException) { return new Served(request, true); }
        return new Served(request, await ClosedByPeer(s));
    });

    private Task<Served> Serve(Func<Socket, Task> answer) => Serve(_listener, answer);

    private Task<Served> Serve(string answer) => Serve(async s =>
    {
        await s.SendAsync(Ascii(answer));
        s.Shutdown(SocketShutdown.Send);
    });

    private static async Task<string> ReadRequest(Socket s)
    {
        using var time = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var request = new StringBuilder();
        var buffer = new byte[4096];
        while (!request.ToString().Contains("\r\n\r\n"))
        {
            var n = await s.ReceiveAsync(buffer, SocketFlags.None, time.Token);
            if (n == 0) break;
            request.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        return request.ToString();
    }

    private static async Task<bool> ClosedByPeer(Socket s)
    {
        using var time = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[4096];
        try
        {
            while (await s.ReceiveAsync(buffer, SocketFlags.None, time.Token) > 0) { }
            return true;
        }
        catch (OperationCanceledException) { return false; }
        catch (SocketException) { return true; } // reset by the client: closed
    }

    // --- Bodies the client reads -------------------------------------------------------------------------------

    [Fact]
    public async Task APageWithContentLengthIsRead()
    {
        var served = Serve($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {Page.Length}\r\n\r\n{Page}");
        AssertPage(Fetch(Url()));
        Assert.True((await served).Closed);
    }

    [Fact]
    public async Task AChunkedPageIsReadWithItsExtensionsAndTrailers()
    {
        var (a, b, c) = (Page[..10], Page[10..40], Page[40..]);
        var served = Serve("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
            $"{a.Length:x}\r\n{a}\r\n{b.Length:X};x=y\r\n{b}\r\n{c.Length:x}\r\n{c}\r\n0\r\nX-Trailer: done\r\nX-Other: too\r\n\r\n");
        AssertPage(Fetch(Url()));
        Assert.True((await served).Closed);
    }

    [Fact]
    public async Task APageWithNeitherLengthNorChunksIsReadUntilTheServerCloses()
    {
        var served = Serve($"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{Page}");
        AssertPage(Fetch(Url()));
        Assert.True((await served).Closed);
    }

    [Fact]
    public async Task AnAnswerSplitAcrossManySmallWritesIsReadWhole()
    {
        var answer = Ascii($"HTTP/1.1 200 OK\r\nContent-Length: {Page.Length}\r\n\r\n{Page}");
        var served = Serve(async s =>
        {
            for (var i = 0; i < answer.Length; i += 3)
            {
                await s.SendAsync(answer.AsMemory(i, Math.Min(3, answer.Length - i)));
                await Task.Delay(5);
            }
        });
        AssertPage(Fetch(Url()));
        Assert.True((await served).Closed);
    }

    [Fact]
    public async Task HeadersEndedByLineFeedsAloneAreRead()
    {
        var served = Serve($"HTTP/1.1 200 OK\nContent-Length: {Page.Length}\nX-Other: yes\n\n{Page}");
        AssertPage(Fetch(Url()));
        Assert.True((await served).Closed);
    }

    // --- The request ---------------------------------------------------------------------------------------------

    private static async Task AssertRequest(TcpListener listener, string uri, string hostHeader)
    {
        var served = Serve(listener, async s =>
        {
            await s.SendAsync(Ascii($"HTTP/1.1 200 OK\r\nContent-Length: {Page.Length}\r\n\r\n{Page}"));
            s.Shutdown(SocketShutdown.Send);
        });
        AssertPage(Fetch(uri));
        var request = (await served).Request;
        Assert.StartsWith("GET /load-balancer/status?node=1&x=y HTTP/1.1\r\n", request);
        Assert.Contains($"\r\nHost: {hostHeader}\r\n", request);
        Assert.Contains("\r\nConnection: close\r\n", request);
        Assert.EndsWith("\r\n\r\n", request);
    }

    [Fact]
    public Task TheRequestNamesPathQueryAndHostWithItsPortForAnIPv4Address()
    {
        var port = Loopback.PortOf(_listener);
        return AssertRequest(_listener, $"http://127.0.0.1:{port}/load-balancer/status?node=1&x=y", $"127.0.0.1:{port}");
    }

    [IPv6LoopbackFact]
    public async Task TheRequestNamesPathQueryAndHostWithItsPortForAnIPv6Address()
    {
        var listener = Loopback.Listen("::1");
        try
        {
            var port = Loopback.PortOf(listener);
            await AssertRequest(listener, $"http://[::1]:{port}/load-balancer/status?node=1&x=y", $"[::1]:{port}");
        }
        finally { listener.Stop(); }
    }

    [Fact]
    public Task TheRequestNamesPathQueryAndHostWithItsPortForAHostName()
    {
        var port = Loopback.PortOf(_listener);
        return AssertRequest(_listener, $"http://localhost:{port}/load-balancer/status?node=1&x=y", $"localhost:{port}");
    }

    // --- Answers that are not the page ---------------------------------------------------------------------------

    [Theory]
    [InlineData(404, "Not Found")]
    [InlineData(500, "Internal Server Error")]
    public async Task AnAnswerOtherThan2xxIsAnErrorNamingItsCodeAndReason(int code, string reason)
    {
        var served = Serve($"HTTP/1.1 {code} {reason}\r\nContent-Length: {Page.Length}\r\n\r\n{Page}");
        var e = Assert.Throws<IOException>(() => Fetch(Url()));
        Assert.Contains($"{code} ({reason})", e.Message);
        Assert.True((await served).Closed);
    }

    [Fact]
    public async Task ARedirectIsNotFollowed()
    {
        var target = Loopback.Listen();
        try
        {
            var served = Serve($"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{Loopback.PortOf(target)}/load-balancer/status\r\nContent-Length: 0\r\n\r\n");
            var e = Assert.Throws<IOException>(() => Fetch(Url()));
            Assert.Contains("302 (Found)", e.Message);
            Assert.True((await served).Closed);
            // The client is synchronous: a connection it had made to the target would be waiting to be accepted now.
            Assert.False(target.Pending(), "the client followed the redirect");
        }
        finally { target.Stop(); }
    }

    [Fact]
    public async Task AnAnswerThatIsNotHttpIsRefused()
    {
        var served = Serve("SSH-2.0-OpenSSH_9.6\r\n");
        var e = Assert.Throws<IOException>(() => Fetch(Url()));
        Assert.Contains("not HTTP/1.x ('SSH-2.0-OpenSSH_9.6')", e.Message);
        Assert.True((await served).Closed);
    }

    /// <summary>
    /// Sent in two parts, the first a little under the bound: the client must count what it had already read, not only
    /// what waits in its buffer.
    /// </summary>
    [Fact]
    public async Task AHeaderBlockAbove16KBIsRefused()
    {
        var line = $"X-Filler: {new string('a', 88)}\r\n"; // 100 bytes
        var first = "HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Repeat(line, 159)); // 15,917 bytes
        var second = string.Concat(Enumerable.Repeat(line, 10)) + $"Content-Length: {Page.Length}\r\n\r\n{Page}";
        var served = Serve(async s =>
        {
            await s.SendAsync(Ascii(first));
            await Task.Delay(300);
            await s.SendAsync(Ascii(second));
            s.Shutdown(SocketShutdown.Send);
        });
        var e = Assert.Throws<IOException>(() => Fetch(Url()));
        Assert.Contains("headers are larger than 16 KB", e.Message);
        Assert.True((await served).Closed);
    }

    /// <summary>The server sends no body: a client that waited for one would time out instead.</summary>
    [Fact]
    public async Task AContentLengthAbove4MiBIsRefusedBeforeTheBodyIsRead()
    {
        var served = Serve(s => s.SendAsync(Ascii($"HTTP/1.1 200 OK\r\nContent-Length: {StatusPageClient.MaxStatusBytes + 1}\r\n\r\n")));
        var e = Assert.Throws<IOException>(() => Fetch(Url()));
        Assert.Contains("larger than 4 MiB", e.Message);
        Assert.True((await served).Closed);
    }

    /// <summary>The server would send 64 MiB; it can send no more once the client stops reading at its bound and closes.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ABodyGrowingPast4MiBIsRefusedAtTheBoundAndTheConnectionClosed(bool chunked)
    {
        var sent = 0L;
        var served = Serve(async s =>
        {
            await s.SendAsync(Ascii($"HTTP/1.1 200 OK\r\n{(chunked ? "Transfer-Encoding: chunked" : "Connection: close")}\r\n\r\n"));
            var lines = Ascii(string.Concat(Enumerable.Repeat("   12345 - someone\n", 3000)));
            var block = chunked ? [.. Ascii($"{lines.Length:x}\r\n"), .. lines, .. "\r\n"u8] : lines;
            for (; sent < 64L * 1024 * 1024; sent += block.Length) await s.SendAsync(block);
        });
        var e = Assert.Throws<IOException>(() => Fetch(Url()));
        Assert.Contains("larger than 4 MiB", e.Message);
        Assert.True((await served).Closed);
        Assert.True(sent < 64L * 1024 * 1024, $"the server sent all {sent} bytes: the client read past its bound");
    }

    /// <summary>A size that is not hexadecimal, and one that does not match its chunk (its data must end in CRLF).</summary>
    [Theory]
    [InlineData("zz")]
    [InlineData("10")]
    public async Task AMalformedChunkSizeIsRefused(string size)
    {
        var line = Page[..Page.IndexOf('\n')]; // one chunk of 36 bytes, without a line feed of its own
        var served = Serve($"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\n{line}\r\n0\r\n\r\n");
        var e = Assert.Throws<IOException>(() => Fetch(Url()));
        Assert.Contains("chunked body is malformed", e.Message);
        Assert.True((await served).Closed);
    }

    [Fact]
    public async Task AConnectionClosedBeforeContentLengthIsReachedIsAnError()
    {
        var served = Serve($"HTTP/1.1 200 OK\r\nContent-Length: {Page.Length + 100}\r\n\r\n{Page}");
        var e = Assert.Throws<IOException>(() => Fetch(Url()));
        Assert.Contains("closed the connection before the whole page was sent", e.Message);
        Assert.True((await served).Closed);
    }

    // --- Time and cancellation -----------------------------------------------------------------------------------

    [Fact]
    public async Task AServerThatNeverAnswersTimesOutWithinTheGivenTimeAndTheConnectionIsClosed()
    {
        var served = Serve(_ => Task.CompletedTask); // then waits for the client to close
        var within = TimeSpan.FromSeconds(1);
        var clock = Stopwatch.StartNew();
        Assert.Throws<TimeoutException>(() => Fetch(Url(), within));
        Assert.True(clock.Elapsed < within + Slack, $"took {clock.Elapsed}");
        Assert.True((await served).Closed, "the client kept its connection open");
    }

    /// <summary>Each byte comes well within the deadline; the 1,000 announced would take 100 s.</summary>
    [Fact]
    public async Task AServerTricklingPastTheDeadlineTimesOutTheWholeRead()
    {
        var served = Serve(async s =>
        {
            await s.SendAsync(Ascii("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"));
            for (var i = 0; i < 1000; i++)
            {
                await s.SendAsync(" "u8.ToArray());
                await Task.Delay(100);
            }
        });
        var within = TimeSpan.FromSeconds(1);
        var clock = Stopwatch.StartNew();
        Assert.Throws<TimeoutException>(() => Fetch(Url(), within));
        Assert.True(clock.Elapsed < within + Slack, $"took {clock.Elapsed}");
        Assert.True((await served).Closed, "the client kept its connection open");
    }

    [Fact]
    public void AClosedPortIsAnIOExceptionNamingTheAddressAtOnce()
    {
        var port = Loopback.FreePort();
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<IOException>(() => Fetch($"http://127.0.0.1:{port}/load-balancer/status"));
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.True(clock.Elapsed < Slack, $"took {clock.Elapsed}: the refusal was not seen");
    }

    [Fact]
    public async Task CancellingWhileWaitingForTheAnswerEndsTheReadAndClosesTheConnection()
    {
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var served = Serve(_ => { asked.SetResult(); return Task.CompletedTask; });
        using var cancel = new CancellationTokenSource();
        var read = Task.Run(() => Fetch(Url(), Long, cancel.Token));
        await asked.Task.WaitAsync(Long);
        var clock = Stopwatch.StartNew();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Long));
        Assert.True(clock.Elapsed < Slack, $"took {clock.Elapsed} after the cancel");
        Assert.True((await served).Closed, "the cancelled client kept its connection open");
    }

    // --- https ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// A self-signed certificate for 127.0.0.1 is not in the system's trust store: the handshake fails and no request
    /// is sent. (A read that succeeds would need the client to trust it; its API has no way, on purpose, and adding
    /// the certificate to this user's or the system's trust store would outlive the test.)
    /// </summary>
    [Fact]
    public async Task AnUntrustedCertificateFailsTheReadBeforeAnyRequest()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false)); // server auth
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var requestBytes = Task.Run(async () =>
        {
            using var s = await _listener.AcceptSocketAsync();
            using var tls = new SslStream(new NetworkStream(s, ownsSocket: false));
            try
            {
                await tls.AuthenticateAsServerAsync(certificate);
                using var time = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                return await tls.ReadAsync(new byte[4096], time.Token); // 0: the client closed without asking
            }
            catch (Exception e) when (e is IOException or AuthenticationException or OperationCanceledException) { return 0; }
        });
        var e = Assert.Throws<AuthenticationException>(() => Fetch($"https://127.0.0.1:{Loopback.PortOf(_listener)}/load-balancer/status"));
        Assert.Contains("certificate", e.Message);
        Assert.Equal(0, await requestBytes);
    }

    // --- The callers -----------------------------------------------------------------------------------------------

    [Fact]
    public void ACommandsFailedReadIsStatusPageUnreachableNamingTheUri()
    {
        var uri = new Uri($"http://127.0.0.1:{Loopback.FreePort()}/load-balancer/status");
        var e = Assert.Throws<WbException>(() => StatusPageClient.Read(uri, CancellationToken.None));
        Assert.Equal("StatusPageUnreachable", e.ErrorId);
        Assert.Equal(WbErrorCategory.ConnectionError, e.Category);
        Assert.Contains(uri.ToString(), e.Message);
        Assert.IsType<IOException>(e.InnerException);
    }

    [Fact]
    public void ACommandsNonHttpUriIsInvalidStatusPageUri()
    {
        var uri = new Uri("ftp://node1:8787/load-balancer/status");
        var e = Assert.Throws<WbException>(() => StatusPageClient.Read(uri, CancellationToken.None));
        Assert.Equal("InvalidStatusPageUri", e.ErrorId);
        Assert.Equal(WbErrorCategory.InvalidArgument, e.Category);
        Assert.Contains(uri.ToString(), e.Message);
    }

    [Fact]
    public async Task AStatusPageServedByOurOwnUidIsRead()
    {
        var served = Serve($"HTTP/1.1 200 OK\r\nContent-Length: {Page.Length}\r\n\r\n{Page}");
        var page = StatusPage.Of(Url(), RServerConfig.From(null));
        var result = ClusterDataReader.ReadStatus(page, Long, Stopwatch.GetTimestamp(), TimeProvider.System);
        Assert.Null(result.Problem);
        AssertPage(result.Value!);
        Assert.True((await served).Closed);
    }
}
