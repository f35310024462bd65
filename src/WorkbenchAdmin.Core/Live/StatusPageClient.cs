using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using WorkbenchAdmin.Core.Formats;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Live;

/// <summary>
/// The one client that reads Workbench's status pages (/load-balancer/status), for the balancer program and for the
/// cmdlets: one GET over HTTP/1.1 (TLS for https://, the system's trust store), read on the caller's thread within
/// its time. No proxy, no redirects, bounded headers and body. A read for the balancer program names its
/// <see cref="StatusPage"/>, and then the page is used only when a trusted user serves it.
/// Not HttpClient: the balancer program starts once per session, and in it HttpClient's set-up, its handler chain and
/// the thread-pool hops of its async path cost 3.3 ms of a 6 ms NativeAOT start (measured side by side on the 2-core
/// VM), more than the read itself; a status page is one short answer on a connection closed after it.
/// </summary>
public static class StatusPageClient
{
    /// <summary>
    /// The most of a status page read: a line per node and a line per session ("   12345 - alice"), some 20 to 45
    /// bytes each. 4 MiB holds 100,000 sessions of 40 bytes, ten times the largest cluster measured here (1,000 nodes,
    /// 10,000 sessions); a page larger than that is not rserver's, and reading it all once cost the service 4 GB.
    /// </summary>
    public const int MaxStatusBytes = 4 * 1024 * 1024;
    /// <summary>rserver answers with a few short headers; 16 KB leaves room for any proxy's, and bounds a page that never ends them.</summary>
    public const int MaxStatusHeaderKilobytes = 16;

    /// <summary>How long a cmdlet waits for a page (Get-WbNode -Uri, Get-WbSessionLoad -Uri).</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Reads and parses <paramref name="uri"/> within <paramref name="within"/>; with <paramref name="page"/>, only from
    /// a socket one of its owners holds (else <see cref="UntrustedPeerException"/>). Cancelling closes the connection.
    /// </summary>
    /// <exception cref="IOException">The page could not be read (the message says why), or it is not a page.</exception>
    /// <exception cref="TimeoutException">No whole answer within <paramref name="within"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancel"/> was cancelled.</exception>
    public static IReadOnlyList<NodeSessionLoad> Fetch(string uri, StatusPage? page, TimeSpan within, CancellationToken cancel)
    {
        var address = new Uri(uri);
        var deadline = Environment.TickCount64 + (long)Math.Max(1, within.TotalMilliseconds);
        using var connection = Connect(address, page, deadline, cancel);
        // Shutting the connection down ends any blocking call on it: how a cancelled read stops at once.
        using var stop = cancel.Register(connection.Abort);
        try
        {
            // Disposed when its handshake fails too: it holds OpenSSL's state, which the decision service must not leak per read.
            using var tls = address.Scheme == Uri.UriSchemeHttps ? new SslStream(connection, leaveInnerStreamOpen: true) : null;
            Stream stream = connection;
            if (tls is not null)
            {
                connection.Bound(deadline);
                tls.AuthenticateAsClient(new SslClientAuthenticationOptions { TargetHost = address.IdnHost });
                stream = tls;
            }
            connection.Bound(deadline);
            stream.Write(Encoding.ASCII.GetBytes(
                $"GET {address.PathAndQuery} HTTP/1.1\r\nHost: {address.Authority}\r\nAccept: text/plain\r\nUser-Agent: WorkbenchAdmin\r\nConnection: close\r\n\r\n"));
            var body = ReadResponse(stream, connection, deadline);
            return SessionLoadText.Parse(Encoding.UTF8.GetString(body), uri);
        }
        catch (Exception e) when (cancel.IsCancellationRequested && e is IOException or TimeoutException or ObjectDisposedException)
        {
            throw new OperationCanceledException(cancel);
        }
        catch (IOException e) when (e.InnerException is TimeoutException timeout)
        {
            throw new TimeoutException("no whole answer in time", timeout); // from inside the TLS stream
        }
    }

    /// <summary>A node's status page for a cmdlet: read and parsed within <see cref="CommandTimeout"/>; errors name the address.</summary>
    public static IReadOnlyList<NodeSessionLoad> Read(Uri uri, CancellationToken cancel)
    {
        if (!SessionLoadText.IsPageAddress(uri))
            throw new WbException("InvalidStatusPageUri", WbErrorCategory.InvalidArgument,
                $"-Uri {uri} is not a node's status page: give an http:// or https:// address, such as http://node1:8787/load-balancer/status.", uri);
        try
        {
            return Fetch(uri.ToString(), null, CommandTimeout, cancel);
        }
        catch (Exception e) when (e is IOException or TimeoutException or System.Security.Authentication.AuthenticationException)
        {
            var why = e is TimeoutException ? $"no answer within {CommandTimeout.TotalSeconds:0} s" : e.Message;
            throw new WbException("StatusPageUnreachable", WbErrorCategory.ConnectionError, $"Cannot read {uri}: {why}", uri, e);
        }
    }

    /// <summary>
    /// Connects to the first address of the page's host that answers, then reads who owns the socket that took the
    /// connection: a page is used only when root, rserver's server-user or we serve it. Checked on the connection itself,
    /// not on the address, so no name or listener elsewhere (localhost's ::1, another process's SO_REUSEPORT) can come
    /// between the check and the read.
    /// </summary>
    private static TcpConnection Connect(Uri address, StatusPage? page, long deadline, CancellationToken cancel)
    {
        var port = address.Port;
        IPAddress[] addresses;
        if (IPAddress.TryParse(address.IdnHost.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            var lookup = Dns.GetHostAddressesAsync(address.IdnHost, cancel);
            try
            {
                if (!lookup.Wait((int)Math.Max(1, deadline - Environment.TickCount64), cancel))
                    throw new TimeoutException($"looking up {address.IdnHost} took too long");
            }
            catch (AggregateException e) when (e.InnerException is SocketException s)
            {
                throw new IOException($"{address.IdnHost} does not resolve: {s.Message}", s);
            }
            addresses = lookup.Result;
        }
        IOException? last = null;
        foreach (var ip in addresses)
        {
            TcpConnection connection;
            try { connection = TcpConnection.Connect(new IPEndPoint(ip, port), deadline, cancel); }
            catch (IOException e)
            {
                last = e;
                continue;
            }
            try
            {
                if (page is not null) CheckOwner(connection, page, NodeCandidate.FormatAddress(ip.ToString(), port));
                return connection;
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }
        throw last ?? new IOException($"{address.IdnHost} has no address");
    }

    private static void CheckOwner(TcpConnection connection, StatusPage page, string where)
    {
        var owner = SocketOwner.PeerUid(connection.Local, connection.Remote);
        if (owner is null)
            throw new UntrustedPeerException($"who serves it at {where} cannot be told (no socket of this host answers there), so it may not be rserver's");
        if (!page.IsOwner(owner.Value))
            throw new UntrustedPeerException($"{where} is served by uid {owner}, not by {page.OwnersText}: another local user listens there, and its counts could steer every decision");
    }

    /// <summary>The body of a 2xx answer: Content-Length, chunked, or until the server closes; headers and body bounded.</summary>
    private static byte[] ReadResponse(Stream stream, TcpConnection connection, long deadline)
    {
        var reader = new ResponseReader(stream, connection, deadline);
        var status = reader.Line() ?? throw new IOException("the server closed the connection without an answer");
        var parts = status.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || parts[1].Length != 3 || !int.TryParse(parts[1], out var code))
            throw new IOException($"the answer is not HTTP/1.x ('{SafeText.Quote(status.Length > 80 ? status[..80] : status)}')");
        long? length = null;
        var chunked = false;
        while (reader.Line() is { Length: > 0 } header)
        {
            var colon = header.IndexOf(':');
            if (colon <= 0) continue;
            var name = header[..colon].Trim();
            var value = header[(colon + 1)..].Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && long.TryParse(value, out var n) && n >= 0) length = n;
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)) chunked = value.EndsWith("chunked", StringComparison.OrdinalIgnoreCase);
        }
        if (code is < 200 or > 299)
            throw new IOException($"the server answered {code}{(parts.Length > 2 && parts[2].Length > 0 ? $" ({SafeText.Quote(parts[2])})" : "")}, not the page");
        if (!chunked && length > MaxStatusBytes) throw TooLarge();
        var body = new MemoryStream();
        if (chunked)
        {
            while (true)
            {
                var sizeLine = reader.Line(header: false) ?? throw EndedInChunks();
                var size = sizeLine.Split(';')[0].Trim();
                if (!long.TryParse(size, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var chunk) || chunk < 0)
                    throw Malformed();
                if (chunk == 0) break;
                if (chunk > MaxStatusBytes - body.Length) throw TooLarge();
                reader.CopyTo(body, chunk);
                // The chunk's data ends in CRLF: anything else means its size was wrong, and the page would be cut or spliced.
                if ((reader.Line(header: false) ?? throw EndedInChunks()).Length > 0) throw Malformed();
            }
        }
        else
        {
            reader.CopyTo(body, length);
        }
        return body.ToArray();
    }

    private static IOException EndedInChunks() => new("the answer ended inside its chunked body");

    private static IOException Malformed() => new("the answer's chunked body is malformed");

    private static IOException TooLarge() =>
        new($"the page is larger than {MaxStatusBytes / (1024 * 1024)} MiB, far more than any cluster's sessions; it was not read further");

    /// <summary>Reads lines (headers: bounded) and counted bytes (body: bounded) from one buffer, each read within the deadline.</summary>
    private sealed class ResponseReader(Stream stream, TcpConnection connection, long deadline)
    {
        private const int MaxChunkLine = 1024;
        private const int MaxHeaderBytes = MaxStatusHeaderKilobytes * 1024;
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _start;
        private int _end;
        private int _headerBytes;

        private bool Fill()
        {
            if (_start == _end) _start = _end = 0;
            if (_end == _buffer.Length)
            {
                Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (Environment.TickCount64 >= deadline) throw new TimeoutException("no whole answer in time");
            connection.Bound(deadline);
            var n = stream.Read(_buffer, _end, _buffer.Length - _end);
            _end += n;
            return n > 0;
        }

        /// <summary>
        /// The next line without its CRLF (or LF); null at the end of the stream. The status line and the headers together
        /// are bounded; a line of the body's chunked framing by itself.
        /// </summary>
        public string? Line(bool header = true)
        {
            while (true)
            {
                var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (newline >= 0)
                {
                    var line = Encoding.Latin1.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                    // Counted as each line is taken, not only while one is incomplete: headers arriving in parts could
                    // otherwise pass the bound by what one read brings.
                    if (header)
                    {
                        _headerBytes += newline + 1 - _start;
                        if (_headerBytes > MaxHeaderBytes) throw HeadersTooLarge();
                    }
                    _start = newline + 1;
                    return line;
                }
                if (header && _end - _start + _headerBytes >= MaxHeaderBytes) throw HeadersTooLarge();
                if (!header && _end - _start >= MaxChunkLine) throw Malformed();
                if (!Fill()) return _end > _start ? TakeRest() : null;
            }
        }

        private static IOException HeadersTooLarge() =>
            new($"the answer's headers are larger than {MaxStatusHeaderKilobytes} KB; it is not a status page");

        private string TakeRest()
        {
            var rest = Encoding.Latin1.GetString(_buffer, _start, _end - _start);
            _start = _end;
            return rest;
        }

        /// <summary>Copies <paramref name="count"/> bytes (all until the end of the stream when null) to <paramref name="to"/>, never more than the page bound.</summary>
        public void CopyTo(MemoryStream to, long? count)
        {
            var left = count ?? long.MaxValue;
            while (left > 0)
            {
                if (_start == _end && !Fill())
                {
                    if (count is null) return;
                    throw new IOException("the server closed the connection before the whole page was sent");
                }
                var n = (int)Math.Min(left, _end - _start);
                if (to.Length + n > MaxStatusBytes) throw TooLarge();
                to.Write(_buffer, _start, n);
                _start += n;
                left -= n;
            }
        }
    }
}
