import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

import org.apache.zookeeper.server.quorum.flexible.QuorumMaj;

/**
 * ZooKeeper's own /zookeeper/config text (QuorumMaj.toString) of each zoo.cfg read from stdin: configs are
 * separated by a line "--", each answer is printed followed by a line "--".
 */
public class QuorumConfigText {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder cfg = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            if (!line.equals("--")) {
                cfg.append(line).append('\n');
                continue;
            }
            Properties props = new Properties();
            props.load(new StringReader(cfg.toString()));
            System.out.println(new QuorumMaj(props).toString());
            System.out.println("--");
            cfg.setLength(0);
        }
    }
}
