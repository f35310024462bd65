using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Proxies;

/// <summary>How the live probe talks to the balancer.</summary>
public sealed record ProbeOptions
{
    public const string DefaultNodeHeader = "X-Workbench-Node";
    public static readonly TimeSpan DefaultHold = TimeSpan.FromSeconds(60);

    /// <summary>How long an idle websocket must stay open through the balancer.</summary>
    public TimeSpan Hold { get; init; } = DefaultHold;
    /// <summary>Local addresses to send the fresh-client requests from, to play several clients (IP stickiness spreads them).</summary>
    public IReadOnlyList<IPAddress> ClientAddresses { get; init; } = [];
    /// <summary>The response header naming the node that answered (New-WbLoadBalancerConfig's proxies set it).</summary>
    public string NodeHeader { get; init; } = DefaultNodeHeader;
    public TimeSpan IoTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public CancellationToken Cancellation { get; init; }
}

/// <summary>
/// The live checks, through the balancer's URL: a websocket upgrade that must stay open while idle for the
/// hold time, one client's repeated requests (its cookies sent back) that must reach one node, and fresh
/// clients' requests that must reach every node. Nodes are told apart by the header the proxy (or the node) adds.
/// </summary>
public static class LoadBalancerProbe
{
    private const string WebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    public const int StickyRequests = 6;
    /// <summary>With this many client addresses, one node answering all of them is no chance of address hashing (2^-(n-1) with two nodes).</summary>
    public const int MinClientsToJudge = 4;

    /// <param name="config">
    /// The balancer's configuration when it was read too: a node it names as a standby server (nginx or HAProxy
    /// "backup", Apache hot standby) is expected not to answer while the others are up. Without it, a node that never
    /// answers is one the balancer does not reach, which from outside looks the same.
    /// </param>
    public static IEnumerable<CheckResult> Run(IEnumerable<CheckDefinition> selected, Uri uri, ClusterNodes nodes, Machine machine, ProbeOptions options,
        ProxyConfig? config = null)
    {
        var target = uri.ToString();
        // Every check is known before the balancer is asked anything: an id with no probe is refused, never run as another.
        var checks = selected.Select(c => (Check: c, Judge: LoadBalancerCheckSet.Of(c).Live)).ToList();
        // One request first: a balancer that does not answer fails every check the same way.
        string? down = null;
        try { Get(uri, null, null, options); }
        catch (Exception e) when (e is IOException or SocketException or AuthenticationException) { down = e.Message; }
        if (down is not null)
        {
            foreach (var (c, _) in checks)
                yield return c.Unchecked(target, $"{uri} did not answer: {down}", "Start the load balancer, or correct -Uri.");
            yield break;
        }
        var live = new LiveUnderCheck(target, uri, nodes, new NodeMatcher(machine, options.Cancellation), options, config);
        foreach (var (c, judge) in checks)
        {
            CheckResult result;
            try { result = judge(c, live); }
            catch (Exception e) when (e is IOException or SocketException or AuthenticationException)
            {
                result = c.Unchecked(target, $"{uri}: {e.Message}", "Make the load balancer answer, then check again.");
            }
            yield return result;
        }
    }

    /// <summary>The balancer under the live checks; which nodes answer fresh clients is measured once, for the checks that need it.</summary>
    internal sealed class LiveUnderCheck(string target, Uri uri, ClusterNodes nodes, NodeMatcher matcher, ProbeOptions options, ProxyConfig? config)
    {
        private Spread? _spread;
        public string Target { get; } = target;
        public Uri Uri { get; } = uri;
        public ProbeOptions Options { get; } = options;
        public Spread Spread => _spread ??= Measure(Uri, nodes, matcher, Options, config);
    }

    internal static CheckResult WebSocket(CheckDefinition c, LiveUnderCheck l) => WebSocketCheck(c, l.Target, l.Uri, l.Options, timeout: false);
    internal static CheckResult Timeout(CheckDefinition c, LiveUnderCheck l) => WebSocketCheck(c, l.Target, l.Uri, l.Options, timeout: true);
    internal static CheckResult Sticky(CheckDefinition c, LiveUnderCheck l) => Sticky(c, l.Target, l.Uri, l.Options);
    internal static CheckResult Nodes(CheckDefinition c, LiveUnderCheck l) => Nodes(c, l.Target, l.Spread);
    internal static CheckResult Distribution(CheckDefinition c, LiveUnderCheck l) => Distribution(c, l.Target, l.Spread);
    internal static CheckResult SeenOnlyByNodes(CheckDefinition c, LiveUnderCheck l) =>
        c.Skip(l.Target, "the headers a balancer adds are seen only by the nodes: checked from its configuration file (-Path)");

    private static CheckResult Sticky(CheckDefinition c, string target, Uri uri, ProbeOptions options)
    {
        var client = options.ClientAddresses.FirstOrDefault();
        var cookies = new Dictionary<string, string>(StringComparer.Ordinal);
        var seen = new List<string>();
        for (var i = 0; i < StickyRequests; i++)
        {
            var r = Get(uri, client, cookies, options);
            foreach (var (name, value) in r.SetCookies) cookies[name] = value;
            if (Identity(r, options) is not { } id) return NoIdentity(c, target, r, options.NodeHeader);
            seen.Add(id);
        }
        var distinct = seen.Distinct().ToList();
        var from = $"{StickyRequests} requests from one client{(cookies.Count > 0 ? $" sending back its cookies ({string.Join(", ", cookies.Keys)})" : " (no cookie was set)")}";
        return distinct.Count == 1
            ? c.Pass(target, $"{from} all reached {distinct[0]}", "one node for all of a client's requests")
            : c.Fail(target, $"{from} reached {distinct.Count} nodes: {string.Join(" → ", seen)}", "one node for all of a client's requests",
                "Turn on sticky sessions in the load balancer (Test-WbLoadBalancer -Path <its configuration> names the line).");
    }

    /// <summary>Which nodes answered fresh clients: the one measurement behind loadbalancer.nodes and loadbalancer.distribution.</summary>
    internal sealed record Spread(ClusterNodes Nodes, string? Unknown, string Header, Response? NoIdentity, int Requests, int Clients, IReadOnlyList<string> Seen,
        IReadOnlyList<string> Missing, IReadOnlyList<(string Node, ProxyServer Server)> Standby)
    {
        public string From => $"{Requests} requests from {Clients} fresh client{(Clients == 1 ? "" : "s")} reached {string.Join(", ", Seen)}";
        /// <summary>From one address, a balancer that pins clients by address shows one node however many it has.</summary>
        public bool TooFewClients => Seen.Count == 1 && Nodes.Nodes.Count > 1 && Clients < MinClientsToJudge;
    }

    private static Spread Measure(Uri uri, ClusterNodes nodes, NodeMatcher matcher, ProbeOptions options, ProxyConfig? config)
    {
        if (nodes.Unknown is { } why) return new Spread(nodes, why, options.NodeHeader, null, 0, 0, [], [], []);
        var count = Math.Max(8, 4 * nodes.Nodes.Count);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var clients = options.ClientAddresses.Count > 0 ? options.ClientAddresses : [null!];
        for (var i = 0; i < count; i++)
        {
            var r = Get(uri, clients[i % clients.Count], null, options);
            if (Identity(r, options) is not { } id) return new Spread(nodes, null, options.NodeHeader, r, i, clients.Count, [], [], []);
            seen.Add(id);
        }
        bool Answered((string Host, int Port) n) => seen.Any(id => NginxConfig.SplitHostPort(id, 0) is { } hp && matcher.Same(hp.Host, hp.Port, n.Host, n.Port));
        var missing = nodes.Nodes.Where(n => !Answered(n)).ToList();
        var standby = missing.Select(n => (Node: ClusterNodes.Format(n), Server: config?.Routes.SelectMany(r => r.Servers)
                .FirstOrDefault(s => s.Standby is not null && matcher.Same(s.Host, s.Port, n.Host, n.Port))))
            .Where(x => x.Server is not null).Select(x => (x.Node, x.Server!)).ToList();
        return new Spread(nodes, null, options.NodeHeader, null, count, clients.Count, seen.Order().ToList(), missing.Select(ClusterNodes.Format).ToList(), standby);
    }

    private static CheckResult Nodes(CheckDefinition c, string target, Spread spread)
    {
        if (spread.Unknown is { } why)
            return c.Unchecked(target, $"the cluster's nodes are unknown ({why})", "Pass -Node host:port for each node, or make the cluster store reachable.");
        if (spread.NoIdentity is { } r) return NoIdentity(c, target, r, spread.Header);
        var expected = $"every node: {string.Join(", ", spread.Nodes.Nodes.Select(ClusterNodes.Format))}";
        if (spread.Missing.Count == 0) return c.Pass(target, spread.From, expected);
        // A standby server the configuration names answers only when the others are down: it is a server all the same.
        if (spread.Standby.Count == spread.Missing.Count)
            return c.Pass(target, $"{spread.From}; {string.Join(", ", spread.Standby.Select(s => $"{s.Node} is a standby server ({s.Server.Standby}, {s.Server.At})"))}, which answers only while the others are down", expected);
        if (spread.TooFewClients)
            return c.Unchecked(target, $"{spread.From} only: the balancer may keep every client of this address on one node, or lack the others",
                "Pass -ClientAddress with local addresses in different /24 networks to play several clients, or check the configuration file (-Path).");
        return c.Fail(target, $"{spread.From}; never {string.Join(", ", spread.Missing)} (not a server of the balancer, a standby one, or down)", expected,
            "Add the missing nodes to the load balancer's servers, or bring them back online; if they are standby servers, pass -Path with the balancer's configuration too, which says so.");
    }

    private static CheckResult Distribution(CheckDefinition c, string target, Spread spread)
    {
        const string expected = "fresh clients spread over every node (active/active), as the multi-server guide asks";
        if (spread.Unknown is { } why)
            return c.Unchecked(target, $"the cluster's nodes are unknown ({why})", "Pass -Node host:port for each node, or make the cluster store reachable.");
        if (spread.NoIdentity is { } r) return NoIdentity(c, target, r, spread.Header);
        if (spread.Missing.Count == 0) return c.Pass(target, spread.From, expected);
        if (spread.TooFewClients)
            return c.Unchecked(target, $"{spread.From} only: the balancer may keep every client of this address on one node",
                "Pass -ClientAddress with local addresses in different /24 networks to play several clients.");
        return c.Warn(target, $"{spread.From}; never {string.Join(", ", spread.Missing)}: the load balancer does not spread new users over every node", expected,
            "Make every node an active server of the balancer (Test-WbLoadBalancer -Path <its configuration> names the line). Or keep this active/passive shape on purpose: "
            + "Workbench's own balancer still places new sessions on every node (Posit's Access and Availability).");
    }

    private static CheckResult NoIdentity(CheckDefinition c, string target, Response r, string header) =>
        c.Unchecked(target, $"the answer (HTTP {r.Status}) does not say which node sent it (no {header} header)",
            $"Have the proxy add {header} with the node's address (New-WbLoadBalancerConfig's configurations do).");

    private static string? Identity(Response r, ProbeOptions options)
    {
        var value = r.Headers.LastOrDefault(h => h.Name.Equals(options.NodeHeader, StringComparison.OrdinalIgnoreCase)).Value;
        if (string.IsNullOrWhiteSpace(value)) return null;
        // nginx lists every upstream it tried ("a, b"): the last answered. Apache names the worker's URL.
        value = value.Split(',')[^1].Trim();
        if (value.Contains("://", StringComparison.Ordinal)) value = value[(value.IndexOf("://", StringComparison.Ordinal) + 3)..];
        return value.TrimEnd('/');
    }

    private static CheckResult WebSocketCheck(CheckDefinition c, string target, Uri uri, ProbeOptions options, bool timeout)
    {
        const string expectedWs = "HTTP 101 and an echoed message";
        var expectedHold = $"the websocket still open after {Duration.Format(options.Hold.TotalSeconds)} idle";
        using var connection = Connect(uri, options.ClientAddresses.FirstOrDefault(), options);
        var stream = connection.Stream;
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        Write(stream, $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                      $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: WorkbenchAdmin\r\n\r\n");
        var reader = new FrameReader(stream, connection.Socket);
        var head = reader.ReadHead();
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + WebSocketGuid)));
        if (head.Status != 101)
        {
            var found = $"the upgrade was answered HTTP {head.Status}, not 101 Switching Protocols";
            return timeout ? c.Unchecked(target, found + " (see loadbalancer.websocket)", "Make the websocket upgrade work first.")
                : c.Fail(target, found, expectedWs, "Pass the Upgrade and Connection headers on to the nodes (Test-WbLoadBalancer -Path <its configuration> names the line).");
        }
        if (!string.Equals(head.Header("Sec-WebSocket-Accept"), accept, StringComparison.Ordinal))
            return c.Fail(target, "the 101 answer's Sec-WebSocket-Accept does not match the key sent", expectedWs, "The balancer or what answers behind it is not a websocket endpoint.");
        SendText(stream, "wbadmin-probe-1");
        if (reader.ReadText(options.IoTimeout) is not "wbadmin-probe-1")
            return c.Fail(target, "the upgrade succeeded but the message sent was not echoed", expectedWs, "Check that the balancer passes websocket frames both ways.");
        if (!timeout) return c.Pass(target, "HTTP 101 Switching Protocols, and a message went both ways", expectedWs);

        var clock = Stopwatch.StartNew();
        if (reader.WaitForClose(options.Hold, options.Cancellation) is { } closedAfter)
            return c.Fail(target, $"the idle websocket was closed after {closedAfter.TotalSeconds:0.0} s", expectedHold,
                "Raise the balancer's read/tunnel timeouts to at least 60 s (Test-WbLoadBalancer -Path <its configuration> names the line).");
        try
        {
            SendText(stream, "wbadmin-probe-2");
            if (reader.ReadText(options.IoTimeout) is "wbadmin-probe-2")
                return c.Pass(target, $"the websocket was still open after {Duration.Format(options.Hold.TotalSeconds)} idle", expectedHold);
        }
        catch (IOException) { }
        return c.Fail(target, $"the websocket stopped carrying messages after {clock.Elapsed.TotalSeconds:0.0} s idle", expectedHold,
            "Raise the balancer's read/tunnel timeouts to at least 60 s.");
    }

    // ----- HTTP/1.1 and websocket framing, over one socket, so the client's local address can be chosen -----

    internal sealed record Response(int Status, IReadOnlyList<(string Name, string Value)> Headers)
    {
        public string? Header(string name) => Headers.LastOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
        public IEnumerable<(string Name, string Value)> SetCookies =>
            Headers.Where(h => h.Name.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase))
                   .Select(h => h.Value.Split(';')[0].Split('=', 2)).Where(p => p.Length == 2).Select(p => (p[0].Trim(), p[1].Trim()));
    }

    private sealed class Connection(Socket socket, Stream stream) : IDisposable
    {
        public Socket Socket { get; } = socket;
        public Stream Stream { get; } = stream;
        public void Dispose()
        {
            Stream.Dispose();
            Socket.Dispose();
        }
    }

    private static Connection Connect(Uri uri, IPAddress? source, ProbeOptions options)
    {
        var addresses = Dns.GetHostAddresses(uri.DnsSafeHost);
        var address = addresses.FirstOrDefault(a => source is null || a.AddressFamily == source.AddressFamily)
            ?? throw new SocketException((int)SocketError.HostNotFound);
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (source is not null) socket.Bind(new IPEndPoint(source, 0));
            using (var cts = CancellationTokenSource.CreateLinkedTokenSource(options.Cancellation))
            {
                cts.CancelAfter(options.IoTimeout);
                try { socket.ConnectAsync(address, uri.Port, cts.Token).AsTask().GetAwaiter().GetResult(); }
                catch (OperationCanceledException) when (!options.Cancellation.IsCancellationRequested)
                {
                    throw new IOException($"no connection to {address}:{uri.Port} within {options.IoTimeout.TotalSeconds:0} s");
                }
            }
            socket.ReceiveTimeout = socket.SendTimeout = (int)options.IoTimeout.TotalMilliseconds;
            Stream stream = new NetworkStream(socket, ownsSocket: false);
            if (uri.Scheme == Uri.UriSchemeHttps)
            {
                var tls = new SslStream(stream);
                tls.AuthenticateAsClient(uri.DnsSafeHost);
                stream = tls;
            }
            return new Connection(socket, stream);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static Response Get(Uri uri, IPAddress? source, IReadOnlyDictionary<string, string>? cookies, ProbeOptions options)
    {
        options.Cancellation.ThrowIfCancellationRequested();
        using var connection = Connect(uri, source, options);
        var cookie = cookies is { Count: > 0 } ? $"Cookie: {string.Join("; ", cookies.Select(kv => $"{kv.Key}={kv.Value}"))}\r\n" : "";
        Write(connection.Stream, $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nUser-Agent: WorkbenchAdmin\r\n{cookie}Connection: close\r\n\r\n");
        return new FrameReader(connection.Stream, connection.Socket).ReadHead();
    }

    private static void Write(Stream stream, string text)
    {
        stream.Write(Encoding.ASCII.GetBytes(text));
        stream.Flush();
    }

    /// <summary>A client's text frame: FIN, opcode 1, masked (RFC 6455 §5.3).</summary>
    private static void SendText(Stream stream, string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var mask = RandomNumberGenerator.GetBytes(4);
        var frame = new List<byte> { 0x81, (byte)(0x80 | payload.Length) };
        frame.AddRange(mask);
        frame.AddRange(payload.Select((b, i) => (byte)(b ^ mask[i % 4])));
        stream.Write(frame.ToArray());
        stream.Flush();
    }

    /// <summary>Reads an HTTP head, then websocket frames, from one stream.</summary>
    private sealed class FrameReader(Stream stream, Socket socket)
    {
        private readonly byte[] _one = new byte[1];
        private readonly byte[] _header = new byte[8];

        public Response ReadHead()
        {
            var head = new StringBuilder();
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (stream.Read(_one, 0, 1) != 1) throw new IOException(head.Length == 0 ? "the connection closed without an answer" : "the answer ended inside its headers");
                head.Append((char)_one[0]);
                if (head.Length > 65536) throw new IOException("the answer's headers exceed 64 KiB");
            }
            var lines = head.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            var status = lines[0].Split(' ');
            if (status.Length < 2 || !status[0].StartsWith("HTTP/", StringComparison.Ordinal) || !int.TryParse(status[1], out var code))
                throw new IOException("the answer is not HTTP");
            var headers = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2).Select(p => (p[0].Trim(), p[1].Trim())).ToList();
            return new Response(code, headers);
        }

        private void ReadExactly(Span<byte> buffer)
        {
            if (stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) != buffer.Length) throw new EndOfStreamException("the websocket closed");
        }

        /// <summary>The next text message (pings answered, other frames skipped), or null when the connection closed.</summary>
        public string? ReadText(TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < timeout)
            {
                var h = _header.AsSpan(0, 2);
                try { ReadExactly(h); }
                catch (EndOfStreamException) { return null; }
                var opcode = h[0] & 0x0F;
                long length = h[1] & 0x7F;
                if (length == 126) { var l = _header.AsSpan(0, 2); ReadExactly(l); length = (l[0] << 8) | l[1]; }
                else if (length == 127) { var l = _header.AsSpan(0, 8); ReadExactly(l); length = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(l); }
                if (length > 1 << 20) throw new IOException("a websocket frame larger than 1 MiB");
                var payload = new byte[length];
                ReadExactly(payload);
                switch (opcode)
                {
                    case 1: return Encoding.UTF8.GetString(payload);
                    case 8: return null;
                }
            }
            return null;
        }

        /// <summary>Waits up to <paramref name="hold"/> for the connection to close; how long it lasted if it did, null if it stayed open.</summary>
        public TimeSpan? WaitForClose(TimeSpan hold, CancellationToken cancellation)
        {
            var clock = Stopwatch.StartNew();
            // Anything readable while idle (a close frame, the end of the stream) means the balancer gave up on it.
            while (clock.Elapsed < hold)
            {
                cancellation.ThrowIfCancellationRequested();
                var slice = TimeSpan.FromMilliseconds(Math.Min(250, Math.Max(1, (hold - clock.Elapsed).TotalMilliseconds)));
                if (socket.Poll(slice, SelectMode.SelectRead)) return clock.Elapsed;
            }
            return null;
        }
    }
}
