import java.io.File;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Properties;

import org.apache.zookeeper.server.quorum.QuorumPeer.QuorumServer;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;
import org.apache.zookeeper.server.quorum.flexible.QuorumMaj;

/**
 * ZooKeeper's own reading and writing of configuration files, one scenario directory per argument after the mode.
 *
 * parse DIR...: QuorumPeerConfig.parse(DIR/zoo.cfg) (standaloneEnabled and reconfigEnabled reset to their defaults
 *   first: they are static), printing "OK id=<myid> distributed=<bool> client=<address> config=<QuorumMaj text with
 *   newlines as |>" or "ERR <messages of the exception and its causes>", one line per directory.
 * write DIR...: the files a member with id DIR/myid writes when it activates the configuration DIR/config.txt
 *   (QuorumPeer.setQuorumVerifier: writeDynamicConfig, editStaticConfig on DIR/zoo.cfg) and when it sees it
 *   proposed (setLastSeenQuorumVerifier: DIR/zoo.cfg.dynamic.next).
 */
public class ReconfigFiles {
    public static void main(String[] args) throws Exception {
        for (int i = 1; i < args.length; i++) {
            if (args[0].equals("parse")) {
                System.out.println(parse(args[i]));
            } else {
                write(args[i]);
            }
        }
    }

    static String parse(String dir) {
        QuorumPeerConfig.setStandaloneEnabled(true);
        QuorumPeerConfig.setReconfigEnabled(false);
        try {
            QuorumPeerConfig c = new QuorumPeerConfig();
            c.parse(dir + "/zoo.cfg");
            InetSocketAddress client = c.getClientPortAddress();
            String config = c.getQuorumVerifier() == null ? "" : c.getQuorumVerifier().toString().replace("\n", "|");
            return "OK id=" + c.getServerId() + " distributed=" + c.isDistributed() + " client="
                + (client == null ? "" : client.getPort()) + " config=" + config;
        } catch (Throwable e) {
            StringBuilder sb = new StringBuilder("ERR");
            for (Throwable t = e; t != null; t = t.getCause()) {
                sb.append(" ").append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
            }
            return sb.toString().replace("\n", "|");
        }
    }

    static void write(String dir) throws Exception {
        String text = new String(Files.readAllBytes(new File(dir, "config.txt").toPath()), StandardCharsets.UTF_8);
        long myId = Long.parseLong(new String(Files.readAllBytes(new File(dir, "myid").toPath())).trim());
        Properties props = new Properties();
        props.load(new StringReader(text));
        QuorumMaj qv = new QuorumMaj(props);
        String cfg = dir + "/zoo.cfg";
        String dynamic = cfg + ".dynamic." + Long.toHexString(qv.getVersion());
        QuorumServer me = qv.getAllMembers().get(myId);
        boolean erase = me != null && me.clientAddr != null && !me.isClientAddrFromStatic;
        QuorumPeerConfig.writeDynamicConfig(dynamic, qv, false);
        QuorumPeerConfig.editStaticConfig(cfg, dynamic, erase);
        QuorumPeerConfig.writeDynamicConfig(cfg + QuorumPeerConfig.nextDynamicConfigFileSuffix, qv, true);
    }
}
