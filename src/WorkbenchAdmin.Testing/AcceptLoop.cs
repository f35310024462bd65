using System.Net.Sockets;

namespace WorkbenchAdmin.Testing;

/// <summary>The accept loop of the stand-in servers tests run: each connection served on a task of its own until stopped.</summary>
public static class AcceptLoop
{
    public static Task Run(TcpListener listener, Func<TcpClient, Task> serve, CancellationToken stop) => Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(stop); }
            catch (Exception) { return; } // stopped: the listener closed or the token fired
            _ = Task.Run(() => serve(client));
        }
    });
}
